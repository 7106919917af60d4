#!/usr/bin/env bash
# The collection builds into an installable tarball, and its playbooks are callable by FQCN.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top"
ansible-galaxy collection build --force --output-path "$tmp/dist" .
tarball=$(ls "$tmp"/dist/kbypass-testbed-*.tar.gz)
ansible-galaxy collection install --force -p "$tmp/collections" "$tarball"
# nothing of the work tree's build output or results may ship
if tar -tzf "$tarball" | grep -E '(^|/)(\.venv|\.build|results|__pycache__)/|icperf/build/'; then
  echo "tarball ships build output" >&2; exit 1
fi
cd "$tmp"
for pb in benchmark teardown; do
  ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ansible-playbook -i "$top/inventories/local" \
    "kbypass.testbed.$pb" --syntax-check
done
echo "built $(basename "$tarball"), installed, playbooks callable as kbypass.testbed.benchmark/teardown"
