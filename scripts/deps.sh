#!/usr/bin/env bash
# Installs the system packages the tests need on Debian, if they are missing:
# etcd (registry and config tests start their own), protoc (the etcd-client
# crate runs one at build time), openssl (the etcd TLS tests make throwaway
# certificates with it) and python3-venv (the deploy/ checks). Idempotent; a no-op when all are present.
set -euo pipefail

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || need+=(libprotobuf-dev)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The deploy/ checks install their tools from PyPI into a virtualenv.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)

if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
