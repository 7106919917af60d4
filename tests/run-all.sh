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
# The QEMU lab (tests/lab): two Debian guests with a stock kernel, driven over SSH. Under TCG (no
# hardware virtualization, as on CI's machines) every Ansible task there costs 10-40 s, so by default
# this stage runs the lab's device part (binding and SR-IOV on the guests' emulated PCI NICs, then
# teardown.yml: about 15 min with a cold image); the benchmark over SSH (kernel OVS, two hosts) is
# the longer target: KBYPASS_LAB=full (or make test-lab, about 35 min). KBYPASS_LAB=0 skips it.
lab() {
  local scope=${KBYPASS_LAB:-devices} mem_gib cpus disk_gib
  case $scope in
    0|no|skip) echo "lab: SKIPPED: KBYPASS_LAB=$scope"; return 0 ;;
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
    return 0
  fi
  echo "lab: scope $scope"
  KBYPASS_LAB_SCOPE=$scope KBYPASS_LAB_RESULTS=$top/.build/lab-results \
    python tests/lab/lab.py run --keep-logs .build/lab -- python -m pytest tests/lab/test_lab.py -q -rs -s
}
stage lab lab
echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
