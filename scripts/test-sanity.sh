#!/usr/bin/env bash
# The sanity tier: `ansible-test sanity` on the built collection (the tarball users install), offline.
#   scripts/test-sanity.sh            every sanity test that applies, on the venv's Python
#   scripts/test-sanity.sh ARGS...    extra ansible-test arguments (e.g. --test validate-modules)
# It checks with the venv's ansible-core and the venv's Python only (3.11 here: ansible-test's
# controller-side tests, and the module tests, are Python tests, and this collection has no Python
# code, so other Python versions would check nothing more). The ignore file for the venv's
# ansible-core line must exist: the generator writes one for each line schemas/collection.json claims.
#
# Offline (only PyPI reachable): ansible-test gives each sanity test a fresh venv and bootstraps pip
# into it with a script it downloads from a CI file host. The script is cached under
# ~/.ansible/test/cache, so a stand-in placed there installs the same pinned pip from a wheel fetched
# from PyPI. HOME points at .cache/ansible-test/home, so the cache and the per-test venvs stay out of
# the user's home and are reused by the next run (about 20 s cold, a few seconds warm).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
venv=$PWD/.venv/bin
cache=$PWD/.cache/ansible-test
mkdir -p "$cache/home" "$cache/wheels"

py=$("$venv/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
core=$("$venv/python" -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')
collection=$(ls -d collection/ansible_collections/*/*)
ignore="$collection/tests/sanity/ignore-$core.txt"
if [ ! -f "$ignore" ]; then
  echo "[sanity] ansible-core $core is not a line schemas/collection.json claims ($ignore is missing)" >&2
  exit 1
fi

# The pip version ansible-test bootstraps (ansible_test/_internal/python_requirements.py).
requirements=$("$venv/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$requirements")
if [ -z "$pip_version" ]; then
  echo "[sanity] cannot read the bootstrap pip version from $requirements" >&2
  exit 1
fi
wheel=$(ls "$cache/wheels"/pip-"$pip_version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  "$venv/pip" download --quiet --disable-pip-version-check --no-deps -d "$cache/wheels" "pip==$pip_version"
  wheel=$(ls "$cache/wheels"/pip-"$pip_version"-*.whl | head -n 1)
fi
standin="$cache/home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$standin")"
cat >"$standin" <<EOF
# Stand-in for get-pip.py (written by scripts/test-sanity.sh): installs pip $pip_version from its PyPI wheel.
import sys
sys.path.insert(0, "$wheel")
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "$wheel"] + [a for a in args if not a.startswith("pip==")]))
EOF

work=$(mktemp -d "${TMPDIR:-/tmp}/vfs-sanity-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$venv/ansible-galaxy" collection build "$collection" --output-path "$work" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work" "$venv/ansible-galaxy" collection install "$work"/*.tar.gz -p "$work" --offline >/dev/null
installed="$work/ansible_collections/${collection#collection/ansible_collections/}"

echo "[sanity] ansible-test sanity, ansible-core $core, Python $py"
cd "$installed"
HOME="$cache/home" PATH="$venv:$PATH" ANSIBLE_NOCOLOR=1 \
  "$venv/ansible-test" sanity --python "$py" --color no "$@"
