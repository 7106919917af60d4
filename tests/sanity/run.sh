#!/usr/bin/env bash
# ansible-test sanity, offline-safe: ansible-test needs the collection at
# .../ansible_collections/kbypass/testbed (a symlink is refused), so the tracked tree is copied
# there; its get-pip bootstrap (downloaded from a host we cannot reach) is seeded in its cache.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# outside the checkout: inside it, ansible-test would list files with git, which ignores .build/
dest="${TMPDIR:-/tmp}/kbypass-sanity/ansible_collections/kbypass/testbed"
mkdir -p "$dest"
rsync -a --delete --delete-excluded --exclude .git --exclude .ansible --exclude .build --exclude .venv --exclude results \
  --exclude __pycache__ --exclude .pytest_cache --exclude 'roles/icperf/files/icperf/build' "$top/" "$dest/"
pip_version=$(python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements as p
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(p.get_venv_packages)).group(1))
PY
)
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$top/tests/sanity/get_pip_offline.py" "$cache/get_pip_${pip_version//./_}.py"
cd "$dest"
exec ansible-test sanity --venv --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$@"
