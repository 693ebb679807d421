#!/usr/bin/env bash
# Instructions per call of the default server chain, counted by callgrind:
# each case of benches/middleware.rs is run for N and 2N calls and the
# difference divided by N, so setup cancels out. Repeatable to a few
# instructions whatever else the machine does (a count, not a time).
#
#   bash scripts/chain-instructions.sh [N] [case...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-env.sh
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }

calls=${1:-2000}
shift || true
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    for kind in grpc http; do
        cases+=("$kind/none" "$kind/defaults, no recorder" "$kind/defaults, observed"
            "$kind/metrics only, prometheus" "$kind/tracing only, sampling off"
            "$kind/defaults, observed, error reply")
    done
fi

bench=$(cargo bench --bench middleware --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "middleware" and m.get("executable"):
        print(m["executable"])')

# The instructions of `$2` calls of case `$1` (the largest process total:
# criterion may fork a helper first).
count() {
    MIDDLEWARE_CALLS=$2 MIDDLEWARE_ONLY=$1 valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null "$bench" --bench 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | sort -n | tail -1
}

echo "| case | instructions per call |"
echo "|---|---:|"
for case in "${cases[@]}"; do
    one=$(count "$case" "$calls")
    two=$(count "$case" $((2 * calls)))
    echo "| $case | $(( (two - one) / calls )) |"
done
