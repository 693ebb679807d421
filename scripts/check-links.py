#!/usr/bin/env python3
"""Fails on a relative link of the repository's markdown that points at no
file (or outside the repository): README.md, docs/, deploy/, the guides."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")
files = [ROOT / "README.md", *ROOT.glob("*/README.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("src/guide/*.md")]
broken = []
for path in files:
    for target in LINK.findall(path.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#") or "::" in target:
            continue  # a URL, an anchor, or an intra-doc link (rustdoc checks those)
        resolved = (path.parent / target.split("#")[0]).resolve()
        if ROOT not in resolved.parents and resolved != ROOT or not resolved.exists():
            broken.append(f"{path.relative_to(ROOT)}: {target}")
for link in broken:
    print(f"broken link: {link}")
sys.exit(1 if broken else 0)
