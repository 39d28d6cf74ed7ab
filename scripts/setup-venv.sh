#!/usr/bin/env bash
# Creates ./.venv with the pinned Python tools (ansible-core, ansible-lint, molecule, yamllint).
# Reinstalls only when requirements.txt changed, so repeated test runs stay fast.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] creating .venv from requirements.txt"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
echo "$want" > "$stamp"
