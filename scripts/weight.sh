#!/usr/bin/env bash
# What a minimal service costs to build: the greeter of scripts/scratch
# (kratos-rs on its default features, tokio, kratos-build) against the same
# greeter hand-assembled from plain tonic + axum (benches/weight/baseline).
# For each: the runtime crates it compiles (normal dependencies, the
# package itself included), a cold release build (fresh target directory;
# CPU time summed over every rustc and build script, and wall time), and
# the release binary's size (as built, and stripped).
#
#   bash scripts/weight.sh                    # kratos-rs on its default features
#   KRATOS_FEATURES=none bash scripts/weight.sh   # kratos-rs with default-features = false
#   ONLY=kratos bash scripts/weight.sh            # skip the baseline
#
# Not part of the test command: two cold release builds take minutes. Run
# it on an otherwise idle machine; docs/benchmarks.md has the figures.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

crates() {
    python3 - "$1" <<'EOF'
import json, subprocess, sys
meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--locked",
     "--filter-platform", "x86_64-unknown-linux-gnu"],
    cwd=sys.argv[1], stderr=subprocess.DEVNULL))
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
seen, todo = set(), [meta["resolve"]["root"]]
while todo:
    node = todo.pop()
    if node in seen:
        continue
    seen.add(node)
    todo += [d["pkg"] for d in nodes[node]["deps"]
             if any(k["kind"] is None for k in d["dep_kinds"])]
print(len(seen))
EOF
}

measure() {
    local name="$1" dir="$2" bin="$3"
    local target="$work/target-$name"
    local count times
    count="$(crates "$dir")"
    times="$( { /usr/bin/time -f '%e %U %S' cargo build --release --locked --quiet \
        --manifest-path "$dir/Cargo.toml" --target-dir "$target" >/dev/null; } 2>&1 | tail -1)"
    read -r wall user sys <<<"$times"
    local size stripped
    size="$(stat -c %s "$target/release/$bin")"
    strip -o "$work/$bin.stripped" "$target/release/$bin"
    stripped="$(stat -c %s "$work/$bin.stripped")"
    printf '%s crates=%s cpu_s=%.0f wall_s=%.0f binary_bytes=%s stripped_bytes=%s\n' \
        "$name" "$count" "$(awk "BEGIN{print $user + $sys}")" "$wall" "$size" "$stripped"
}

cp -r "$repo/scripts/scratch" "$work/kratos"
sed "s|@REPO@|$repo|g" "$work/kratos/Cargo.toml.in" > "$work/kratos/Cargo.toml"
rm "$work/kratos/Cargo.toml.in"
if [ "${KRATOS_FEATURES:-default}" = none ]; then
    sed -i 's|^kratos-rs = { path = "\([^"]*\)" }|kratos-rs = { path = "\1", default-features = false }|' "$work/kratos/Cargo.toml"
    grep -q 'default-features = false' "$work/kratos/Cargo.toml"
fi
cp -r "$repo/benches/weight/baseline" "$work/baseline"
mv "$work/baseline/Cargo.toml.in" "$work/baseline/Cargo.toml"
# The same greeter.proto on both sides.
cp -r "$repo/scripts/scratch/proto" "$work/baseline/proto"
for dir in kratos baseline; do
    cp "$repo/Cargo.lock" "$work/$dir/Cargo.lock"
    # Trim the copied lock to what this crate needs (no new versions).
    cargo update --quiet --offline --workspace --manifest-path "$work/$dir/Cargo.toml"
done
measure kratos "$work/kratos" scratch-greeter
[ "${ONLY:-}" = kratos ] || measure baseline "$work/baseline" baseline-greeter
