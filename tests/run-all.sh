#!/usr/bin/env bash
# The whole test suite (make test; .ci/run). Every stage runs even when one fails; the exit
# code is non-zero when any failed. Stages that need something this machine may lack say so.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export PYTHONPATH="$top/.build/collections${PYTHONPATH:+:$PYTHONPATH}"
passed=0; failed=0; failed_names=()
stage() {
  local name=$1; shift
  echo "=== stage: $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== stage $name: PASSED in $((SECONDS - t0)) s"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "=== stage $name: FAILED in $((SECONDS - t0)) s"
  fi
}
stage unit python -m pytest tests/unit -q -rs
stage icperf bash tests/icperf/run_tests.sh
stage icperf-dpdk bash tests/icperf/run_dpdk_tests.sh
stage galaxy-build bash tests/build/run.sh
stage ansible-lint ansible-lint --profile production
stage sanity bash tests/sanity/run.sh
stage integration python -m pytest tests/integration -q -rs -s
echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
