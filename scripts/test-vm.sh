#!/usr/bin/env bash
# The VM tier: Molecule scenarios on real QEMU guests started through libvirt.
#   scripts/test-vm.sh              every scenario
#   scripts/test-vm.sh -s NAME ...  the named scenarios
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    -s | --scenario) scenarios+=("$2"); shift 2 ;;
    *) echo "usage: $0 [-s SCENARIO]..." >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default packer lifecycle faults host)

# The scenarios' domain names (vfs-<scenario>) and host directories (/var/tmp/vfs-molecule/<scenario>)
# are fixed, and each scenario starts by destroying them: two VM tiers on one host (two checkouts)
# would tear down each other's guests. One host-wide lock makes the second wait.
exec 9>/run/lock/vfs-molecule.lock
if ! flock -n 9; then
  echo "[vm] another VM tier runs on this host; waiting for /run/lock/vfs-molecule.lock"
  flock 9
fi
bash scripts/setup-venv.sh
bash lab/install-deps.sh
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
mkdir -p .cache/artifacts
start=$(date +%s)
for s in "${scenarios[@]}"; do
  echo "[vm $(( $(date +%s) - start ))s] molecule test -s $s"
  molecule test -s "$s"
done
echo "[vm $(( $(date +%s) - start ))s] ${#scenarios[@]} scenario(s) passed: ${scenarios[*]}"
