#!/usr/bin/env bash
# The VM tier: Molecule scenarios on real QEMU guests started through libvirt.
#   scripts/test-vm.sh              every scenario
#   scripts/test-vm.sh -s NAME ...  the named scenarios
#   --stack debian13                 on the Debian 13 stack (lab/stack-debian13.sh: libvirt 11,
#                                    QEMU 10, Rust virtiofsd); default debian12, the host's libvirtd.
#                                    Exported as LAB_STACK, which every lab script reads.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/vm-lock.sh
. "$PWD/scripts/vm-lock.sh"
vm_lock_reexec "$PWD/scripts/test-vm.sh" "$@"
scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    -s | --scenario) scenarios+=("$2"); shift 2 ;;
    --stack) export LAB_STACK="$2"; shift 2 ;;
    *) echo "usage: $0 [--stack debian12|debian13] [-s SCENARIO]..." >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default packer lifecycle faults host readonly cluster)

bash scripts/setup-venv.sh
bash lab/install-deps.sh
case "${LAB_STACK:-debian12}" in
  debian12) ;;
  # The rootfs is the Debian 13 hypervisor's / : Ansible reaches it through a chroot connection.
  debian13) LAB_STACK_ROOTFS=$(bash lab/stack-debian13.sh build | tail -n1); export LAB_STACK_ROOTFS ;;
  *) echo "--stack: expected debian12 or debian13, got '$LAB_STACK'" >&2; exit 2 ;;
esac
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
mkdir -p .cache/artifacts
start=$(date +%s)
for s in "${scenarios[@]}"; do
  echo "[vm $(( $(date +%s) - start ))s] molecule test -s $s (stack ${LAB_STACK:-debian12})"
  molecule test -s "$s"
done
echo "[vm $(( $(date +%s) - start ))s] ${#scenarios[@]} scenario(s) passed: ${scenarios[*]}"
