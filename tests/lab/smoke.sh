#!/usr/bin/env bash
# Smoke check of the QEMU lab, run by the harness:  tests/lab/lab.py run -- bash tests/lab/smoke.sh
# (make test-lab). Every step goes through the repo's Ansible over SSH; a failing step fails it.
set -euo pipefail
: "${KBYPASS_LAB_INVENTORY:?run me through tests/lab/lab.py run (sets KBYPASS_LAB_INVENTORY)}"
repo=$(cd "$(dirname "$0")/../.." && pwd)
export ANSIBLE_CONFIG=$repo/ansible.cfg
ansible=$repo/.venv/bin/ansible
[ -x "$ansible" ] || { echo "smoke: $ansible missing: run 'make deps' first" >&2; exit 2; }

step() { echo; echo "=== smoke: $1"; }
on() {  # on HOSTS SHELL-COMMAND
    "$ansible" -i "$KBYPASS_LAB_INVENTORY" "$1" -m ansible.builtin.shell -a "$2"
}

step "ansible ping"
"$ansible" -i "$KBYPASS_LAB_INVENTORY" kbypass_hosts -m ansible.builtin.ping
step "guest kernel"
on kbypass_hosts 'uname -r'
step "openvswitch module loads"
on kbypass_hosts 'modprobe openvswitch && lsmod | grep openvswitch'
step "NICs"
on kbypass_hosts 'ip -br link'
step "PCI NICs: virtio-net, e1000e (82574L 8086:10d3) and igb (82576 8086:10c9)"
on kbypass_hosts 'lspci -nn | grep -i ethernet && lspci -nn | grep -q 8086:10d3 && lspci -nn | grep -q 8086:10c9'
step "data0 carries traffic: lab1 10.99.0.1 -> lab2 10.99.0.2"
on lab1 'ip addr flush dev data0 && ip addr add 10.99.0.1/24 dev data0 && ip link set data0 up'
on lab2 'ip addr flush dev data0 && ip addr add 10.99.0.2/24 dev data0 && ip link set data0 up'
on lab1 'ping -c3 -W5 -I data0 10.99.0.2'
on kbypass_hosts 'ip addr flush dev data0 && ip link set data0 down'
echo
echo "=== smoke: passed"
