#!/usr/bin/env bash
# The whole test suite (make test; .ci/run). Every stage runs even when one fails; the exit code is
# non-zero when any failed. Stages that need something this machine may lack say so.
#
# A stage PASSED when it exits 0; it is SKIPPED when it exits 77 and prints a line
# "SKIPPED: reason" (77 without that line is a failure); any other exit is FAILED. A pytest stage
# (pytest_stage) that collects no test (pytest's exit 5) or whose every test skipped is SKIPPED.
# The last lines name each skipped stage with its reason and each failed stage, then the count:
#   skipped: integration: every test skipped: needs root, LXC and ansible-playbook ...
#   failed: sanity (exit 1)
#   5 passed, 1 failed, 2 skipped
# KBYPASS_STAGES="unit icperf" runs only those stages (names as in STAGES). Sourced, this file only
# defines its functions (tests/unit/test_run_all.py drives them with fake stages).
set -uo pipefail

SKIP_RC=77
STAGES=(unit icperf icperf-dpdk galaxy-build ansible-lint sanity integration lab)
PYTEST=(python -m pytest)
passed=(); failed=(); skipped=()

# run_stage NAME COMMAND...: run one stage, its output shown and kept, and record its verdict
run_stage() {
  local name=$1 t0=$SECONDS log rc reason verdict
  shift
  echo "=== stage: $name"
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  reason=$(sed -n 's/^.*SKIPPED: //p' "$log" | tail -n 1)
  rm -f "$log"
  if [ "$rc" -eq 0 ]; then
    verdict=PASSED; passed+=("$name")
  elif [ "$rc" -eq "$SKIP_RC" ] && [ -n "$reason" ]; then
    verdict=SKIPPED; skipped+=("$name: $reason")
  elif [ "$rc" -eq "$SKIP_RC" ]; then
    verdict=FAILED; failed+=("$name (exit $SKIP_RC without a line 'SKIPPED: reason')")
  else
    verdict=FAILED; failed+=("$name (exit $rc)")
  fi
  echo "=== stage $name: $verdict in $((SECONDS - t0)) s"
}

# pytest_stage ARGS...: pytest as a stage; no test collected (exit 5) or every test skipped is a skip
pytest_stage() {
  local log rc last reasons
  log=$(mktemp)
  "${PYTEST[@]}" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # pytest's last summary line: "3 passed, 1 skipped in 2.01s", "5 skipped in 0.1s", "no tests ran in 0.01s"
  last=$(grep -E '^(=+ )?([0-9]+ [a-z]+(, )?)+ in [0-9.]+s|no tests ran' "$log" | tail -n 1)
  reasons=$(sed -n 's/^SKIPPED \[[0-9]*\] [^ ]*: //p' "$log" | sort -u | awk 'NR > 1 {printf "; "} {printf "%s", $0}')
  rm -f "$log"
  if [ "$rc" -eq 5 ]; then
    echo "SKIPPED: pytest collected no test"
    return "$SKIP_RC"
  fi
  if [ "$rc" -eq 0 ] && [[ $last == *skipped* ]] && ! [[ $last =~ [0-9]+\ (passed|xpassed|xfailed) ]]; then
    echo "SKIPPED: every test skipped: ${reasons:-no reason given}"
    return "$SKIP_RC"
  fi
  return "$rc"
}

# summary: the skipped and failed stages, then "N passed, N failed, N skipped"; fails if any failed
summary() {
  local line
  for line in "${skipped[@]}"; do echo "skipped: $line"; done
  for line in "${failed[@]}"; do echo "failed: $line"; done
  echo "${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
  [ "${#failed[@]}" -eq 0 ]
}

# The QEMU lab (tests/lab): two Debian guests with a stock kernel, driven over SSH. Under TCG (no
# hardware virtualization, as on CI's machines) every Ansible task there costs 10-40 s, so by default
# this stage runs the lab's device part (binding and SR-IOV on the guests' emulated PCI NICs, then
# teardown.yml: about 15 min with a cold image); the benchmark over SSH (kernel OVS, two hosts) is
# the longer target: KBYPASS_LAB=full (or make test-lab, about 35 min). KBYPASS_LAB=0 skips it.
lab() {
  local scope=${KBYPASS_LAB:-devices} mem_gib cpus disk_gib
  case $scope in
    0|no|skip) echo "lab: SKIPPED: KBYPASS_LAB=$scope"; return "$SKIP_RC" ;;
    1|full) scope=full ;;
    devices) ;;
    *) echo "lab: KBYPASS_LAB=$scope: use devices (the default), full or 0"; return 1 ;;
  esac
  mem_gib=$(awk '/^MemAvailable:/ {print int($2 / 1048576)}' /proc/meminfo)
  cpus=$(nproc)
  disk_gib=$(df -P --block-size=1G /var/tmp | awk 'NR == 2 {print $4}')
  if [ "$(id -u)" != 0 ] || [ "$mem_gib" -lt 6 ] || [ "$cpus" -lt 2 ] || [ "$disk_gib" -lt 10 ]; then
    echo "lab: SKIPPED: the QEMU lab needs root, 6 GiB of free memory, 2 CPUs and 10 GiB free in /var/tmp" \
         "(here: uid $(id -u), ${mem_gib} GiB, $cpus CPUs, ${disk_gib} GiB)"
    return "$SKIP_RC"
  fi
  echo "lab: scope $scope"
  KBYPASS_LAB_SCOPE=$scope KBYPASS_LAB_RESULTS=$top/.build/lab-results \
    python tests/lab/lab.py run --keep-logs .build/lab -- python -m pytest tests/lab/test_lab.py -q -rs -s
}

# stage_command NAME: run the stage called NAME
stage_command() {
  case $1 in
    unit) pytest_stage tests/unit -q -rs ;;
    icperf) bash tests/icperf/run_tests.sh ;;
    icperf-dpdk) bash tests/icperf/run_dpdk_tests.sh ;;
    galaxy-build) bash tests/build/run.sh ;;
    ansible-lint) ansible-lint --profile production ;;
    sanity) bash tests/sanity/run.sh ;;
    integration) pytest_stage tests/integration -q -rs -s ;;
    lab) lab ;;
    *) echo "no stage $1 (stages: ${STAGES[*]})"; return 2 ;;
  esac
}

main() {
  local name
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cd "$top" || exit 1
  export PYTHONPATH="$top/.build/collections${PYTHONPATH:+:$PYTHONPATH}"
  # shellcheck disable=SC2086  # a list of names
  for name in ${KBYPASS_STAGES:-${STAGES[*]}}; do
    run_stage "$name" stage_command "$name"
  done
  echo
  summary
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
