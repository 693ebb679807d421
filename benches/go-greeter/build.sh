#!/usr/bin/env bash
# Builds the grpc-go greeter offline from Debian's Go packages, into
# target/go-greeter/greeter (where `cargo bench --bench load` looks for it).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/google.golang.org/grpc ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        golang-go golang-google-grpc-dev golang-google-protobuf-dev >/dev/null
fi

out="$PWD/target/go-greeter"
mkdir -p "$out/src/greeter"
cp benches/go-greeter/main.go "$out/src/greeter/main.go"
GO111MODULE=off GOPATH="$out:/usr/share/gocode" GOPROXY=off GOCACHE="$out/cache" \
    go build -o "$out/greeter" greeter
echo "built $out/greeter ($(go version))"
