#!/usr/bin/env bash
# Creates ./.venv with the pinned Python tools (ansible-core, ansible-lint, molecule, yamllint).
# Reinstalls only when requirements.txt or requirements-collections.txt changed, so repeated test runs
# stay fast. Collections from requirements-collections.txt land in .venv/collections (ANSIBLE_COLLECTIONS_PATH
# of the scenarios that need them), unpacked from the pinned wheel: only the named collections, not all 100.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-collections.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] creating .venv from requirements.txt"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
rm -rf .venv/collections .venv/wheels
grep -Ev '^[[:space:]]*(#|$)' requirements-collections.txt | while read -r pkg collections; do
  .venv/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d .venv/wheels "$pkg"
  whl=$(ls .venv/wheels/"${pkg%%==*}"-"${pkg#*==}"-*.whl)
  # shellcheck disable=SC2086 # one argument per collection name
  .venv/bin/python - "$whl" .venv/collections $collections <<'PY'
import sys, zipfile
whl, dest, *names = sys.argv[1:]
prefixes = tuple("ansible_collections/%s/" % n.replace(".", "/") for n in names)
with zipfile.ZipFile(whl) as z:
    members = [m for m in z.namelist() if m.startswith(prefixes)]
    if not members:
        sys.exit("%s holds none of %s" % (whl, ", ".join(names)))
    z.extractall(dest, members)
PY
done
rm -rf .venv/wheels
echo "$want" > "$stamp"
