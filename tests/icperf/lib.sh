#!/usr/bin/env bash
# Shared by the icperf test scripts (sourced): PASS/FAIL counters, ok/bad, and jcheck.
# shellcheck disable=SC2034  # PASS and FAIL are read by the scripts that source this file
PASS=${PASS:-0}
FAIL=${FAIL:-0}

ok() {
	PASS=$((PASS + 1))
	echo "ok   - $1"
}

bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $1: $2"
}

# jcheck NAME FILE EXPR: EXPR is a Python expression over s (the summary object of FILE) and
# samples (its sample objects); the test passes when it is true.
jcheck() {
	local name=$1 file=$2 expr=$3 out
	if out=$(python3 - "$file" "$expr" 2>&1 <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
samples, s = [], None
for line in open(path):
    line = line.strip()
    if not line:
        continue
    obj = json.loads(line)  # every line must be JSON
    if obj.get("type") == "sample":
        samples.append(obj)
    elif obj.get("type") == "summary":
        s = obj
if s is None:
    sys.exit("no summary line")
if not eval(expr, {"s": s, "samples": samples, "abs": abs, "max": max, "min": min}):
    print("false: %s\nsummary: %s" % (expr, json.dumps(s)))
    sys.exit(1)
EOF
	); then
		ok "$name"
	else
		bad "$name" "$out"
	fi
}
