#!/usr/bin/env bash
# The VM tier: Molecule scenarios on real QEMU guests started through libvirt.
#   scripts/test-vm.sh              every scenario
#   scripts/test-vm.sh -s NAME ...  the named scenarios
#   --stack debian13                 on the Debian 13 stack (lab/stack-debian13.sh: libvirt 11,
#                                    QEMU 10, Rust virtiofsd); default debian12, the host's libvirtd.
#                                    Exported as LAB_STACK, which every lab script reads.
set -euo pipefail
cd "$(dirname "$0")/.."
# The scenarios' domain names (vfs-<scenario>) and host directories (/var/tmp/vfs-molecule/<scenario>)
# are fixed, and each scenario starts by destroying them: two VM tiers on one host (two checkouts)
# would tear down each other's guests. One host-wide lock makes the second wait. flock -o: the lock
# fd must not leak into the daemons a scenario starts (libvirtd would hold it after the run).
# /run/lock where the host has it (systemd-tmpfiles makes it), else /tmp: never a reason to fail.
lockdir=/run/lock
[ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=/tmp
lock=$lockdir/vfs-molecule.lock
if [ "${VFS_VM_LOCKED:-0}" != 1 ]; then
  flock -n "$lock" true || echo "[vm] another VM tier runs on this host; waiting for $lock"
  VFS_VM_LOCKED=1 exec flock -o "$lock" bash "$PWD/scripts/test-vm.sh" "$@"
fi
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
