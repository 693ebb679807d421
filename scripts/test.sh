#!/usr/bin/env bash
# The test command: installs what the tests need, checks deploy/ (manifests,
# Dockerfile), then runs every test of the workspace with every feature
# (unit, integration against a real etcd, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-env.sh

bash scripts/deps.sh
bash scripts/check-deploy.sh
python3 scripts/check-links.py
bash scripts/check-scratch.sh
cargo test --workspace --all-features "$@"
