#!/usr/bin/env python3
"""Fails when a link of the facade's landing page or guides rendered as
text: `[core]` or `[`Config`]` left in the prose of `cargo doc` output (a
link rustdoc dropped without a warning, as the landing page's links to the
re-exported crates once were). Those pages link only inside kratos-rs, so
every link must resolve locally. (Other pages also link to dependencies,
which `--no-deps` output cannot resolve and docs.rs does.)
Run after `cargo doc`: python3 scripts/check-rendered-links.py [target/doc]"""

import html
import re
import sys
from pathlib import Path

doc = Path(sys.argv[1] if len(sys.argv) > 1 else "target/doc")
# Prose of doc comments: rustdoc wraps each in `<div class="docblock …">`.
BLOCK = re.compile(r'<div class="docblock[^"]*">(.*?)</div>', re.S)
LEFT = re.compile(r"\[`?[A-Za-z_][A-Za-z0-9_:]*(?:\(\))?`?\](?!\()")
# [`Config`] left unresolved renders as brackets around a code span.
LEFT_CODE = re.compile(r"\[<code>([A-Za-z_][A-Za-z0-9_:]*(?:\(\))?)</code>\]")
found = []
pages = 0
for page in [doc / "kratos" / "index.html", *sorted((doc / "kratos" / "guide").rglob("*.html"))]:
    if page.exists():
        pages += 1
        for block in BLOCK.findall(page.read_text()):
            found += [f"{page.relative_to(doc)}: [`{name}`]" for name in LEFT_CODE.findall(block)]
            prose = re.sub(r"<pre.*?</pre>|<code>.*?</code>", "", block, flags=re.S)
            text = html.unescape(re.sub(r"<[^>]+>", "", prose))
            found += [f"{page.relative_to(doc)}: {link}" for link in LEFT.findall(text)]
if pages == 0:
    sys.exit(f"no documentation under {doc}: run `cargo doc --workspace --no-deps --all-features` first")
for line in sorted(set(found)):
    print(f"link rendered as text: {line}")
print(f"rendered links: {pages} pages checked, {len(set(found))} links left as text")
sys.exit(1 if found else 0)
