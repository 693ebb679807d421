#!/usr/bin/env bash
# Instructions per call of the default server chain, counted by callgrind:
# each case of benches/middleware.rs is called N times in process, and the
# inclusive cost of the bench's `call_path` (build the request, run it
# through the router and its layers, drop the response) is divided by its
# number of calls. Only the calling thread's work is in it (not the
# Prometheus upkeep thread), so a count repeats within a few instructions
# whatever else the machine does: a count, not a time.
#
#   bash scripts/chain-instructions.sh [N] [case...]
#
# MIDDLEWARE_BENCH=path counts with an already built bench binary (another
# commit's, to compare) instead of building this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-env.sh
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }

calls=${1:-5000}
shift || true
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    for kind in grpc http; do
        cases+=("$kind/none" "$kind/defaults, no recorder" "$kind/defaults, observed"
            "$kind/metrics only, prometheus" "$kind/tracing only, sampling off"
            "$kind/defaults, observed, error reply")
    done
fi

bench=${MIDDLEWARE_BENCH:-}
[ -n "$bench" ] || bench=$(cargo bench --bench middleware --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "middleware" and m.get("executable"):
        print(m["executable"])')

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| case | instructions per call |"
echo "|---|---:|"
for case in "${cases[@]}"; do
    MIDDLEWARE_CALLS=$calls MIDDLEWARE_ONLY=$case valgrind --tool=callgrind \
        --callgrind-out-file="$out/cg" "$bench" --bench >/dev/null 2>&1
    per_call=$(callgrind_annotate --inclusive=yes --tree=caller "$out/cg" | python3 -c '
import re, sys
text = sys.stdin.read()
for block in text.split("\n\n"):
    if "*  ???:middleware::call_path " not in block:
        continue
    cost = int(re.search(r"([\d,]+) \([^)]*\)\s+\*", block).group(1).replace(",", ""))
    calls = sum(int(n.replace(",", "")) for n in re.findall(r"<[^\n]*\(([\d,]+)x\)", block))
    print(cost // calls)
    break')
    echo "| $case | $per_call |"
done
