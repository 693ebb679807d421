#!/usr/bin/env bash
# Builds and runs a service as a user would write it, outside the workspace,
# with only kratos-rs (this repository standing in for crates.io), tokio and
# kratos-build: a greeter from a .proto, served and called over gRPC and
# HTTP/JSON. It uses the workspace's lock file (no new versions) and target
# directory (no second build of the shared dependencies).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cp -r "$repo/scripts/scratch/." "$dir/"
sed "s|@REPO@|$repo|g" "$dir/Cargo.toml.in" > "$dir/Cargo.toml"
rm "$dir/Cargo.toml.in"
cp "$repo/Cargo.lock" "$dir/Cargo.lock"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
output="$(cd "$dir" && cargo run --quiet)"
echo "$output"
[ "$(grep -c '^scratch ok:' <<<"$output")" -eq 2 ]
