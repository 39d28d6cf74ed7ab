#!/usr/bin/env bash
# The sanity tier: `ansible-test sanity` on the built collection (the tarball users install), offline,
# once per ansible-core line the collection claims (one tests/sanity/ignore-<line>.txt each, written
# by the generator from schemas/collection.json's tested_ansible_core).
#   scripts/test-sanity.sh                     every claimed line
#   scripts/test-sanity.sh --core 2.19 ARGS... one line, extra ansible-test arguments
#                                              (e.g. --test validate-modules)
# The newest line runs from ./.venv (requirements.txt); older lines from their own venvs, pinned in
# requirements-sanity.txt. Every line checks with the controller's Python only (3.11 here): the
# collection has no Python code, so other Python versions would check nothing more.
#
# Offline (only PyPI reachable): ansible-test gives each sanity test a fresh venv and bootstraps pip
# into it with a script it downloads from a CI file host. The script is cached under
# ~/.ansible/test/cache, so a stand-in placed there installs the same pinned pip from a wheel fetched
# from PyPI. HOME points at .cache/ansible-test/home, so the cache and the per-test venvs stay out of
# the user's home and are reused by the next run (about 20 s per line cold, a few seconds warm).
set -euo pipefail
cd "$(dirname "$0")/.."
only=""
if [ "${1:-}" = "--core" ]; then
  only=$2
  shift 2
fi
bash scripts/setup-venv.sh
main=$PWD/.venv/bin
cache=$PWD/.cache/ansible-test
mkdir -p "$cache/home" "$cache/wheels"
collection=$(ls -d collection/ansible_collections/*/*)
core_of() { "$1/python" -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))'; }

# The venv's bin directory for one ansible-core line, created from its pin when missing or outdated.
venv_for() {
  local line=$1
  if [ "$(core_of "$main")" = "$line" ]; then
    echo "$main"
    return
  fi
  local pin
  pin=$(grep -E "^ansible-core==${line//./\\.}\.[0-9]+\$" requirements-sanity.txt || true)
  if [ -z "$pin" ]; then
    echo "[sanity] ansible-core $line: no pin in requirements-sanity.txt (nor requirements.txt)" >&2
    return 1
  fi
  local dir=$cache/venv-$line
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.pin" 2>/dev/null)" != "$pin" ]; then
    echo "[sanity] creating $dir ($pin)" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$pin" >&2
    echo "$pin" >"$dir/.pin"
  fi
  echo "$dir/bin"
}

# The stand-in for the pip bootstrap script of one ansible-test (its pip version differs per line).
install_pip_standin() {
  local venv=$1 requirements pip_version wheel standin
  requirements=$("$venv/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py
  pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$requirements")
  if [ -z "$pip_version" ]; then
    echo "[sanity] cannot read the bootstrap pip version from $requirements" >&2
    return 1
  fi
  wheel=$(find "$cache/wheels" -name "pip-$pip_version-*.whl" | head -n 1)
  if [ -z "$wheel" ]; then
    "$main/pip" download --quiet --disable-pip-version-check --no-deps -d "$cache/wheels" "pip==$pip_version"
    wheel=$(find "$cache/wheels" -name "pip-$pip_version-*.whl" | head -n 1)
  fi
  standin="$cache/home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  mkdir -p "$(dirname "$standin")"
  cat >"$standin" <<PY
# Stand-in for get-pip.py (written by scripts/test-sanity.sh): installs pip $pip_version from its PyPI wheel.
import sys
sys.path.insert(0, "$wheel")
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel") and not a.startswith("pip==")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "$wheel"] + args))
PY
}

lines=()
for f in "$collection"/tests/sanity/ignore-*.txt; do
  line=${f##*/ignore-}
  lines+=("${line%.txt}")
done
if [ -n "$only" ]; then
  if [ ! -f "$collection/tests/sanity/ignore-$only.txt" ]; then
    echo "[sanity] ansible-core $only is not a line schemas/collection.json claims (claimed: ${lines[*]})" >&2
    exit 1
  fi
  lines=("$only")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vfs-sanity-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$main/ansible-galaxy" collection build "$collection" --output-path "$work" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work" "$main/ansible-galaxy" collection install "$work"/*.tar.gz -p "$work" --offline >/dev/null
installed="$work/ansible_collections/${collection#collection/ansible_collections/}"

for line in "${lines[@]}"; do
  venv=$(venv_for "$line")
  if [ "$(core_of "$venv")" != "$line" ]; then
    echo "[sanity] $venv holds ansible-core $(core_of "$venv"), not $line" >&2
    exit 1
  fi
  install_pip_standin "$venv"
  py=$("$venv/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  echo "[sanity] ansible-test sanity, ansible-core $line, Python $py"
  (cd "$installed" && HOME="$cache/home" PATH="$venv:$PATH" ANSIBLE_NOCOLOR=1 \
    "$venv/ansible-test" sanity --python "$py" --color no "$@")
done
echo "[sanity] passed on ansible-core ${lines[*]}"
