# shellcheck shell=bash
# Sourced by the VM tier's scripts: the host-wide lock that keeps two VM tiers (two checkouts, or a
# benchmark) from tearing down each other's guests, and one lock per scenario.
# The scenarios' domain names (vfs-<scenario>) and host directories (/var/tmp/vfs-molecule/<scenario>)
# are fixed, and each scenario starts by destroying them. One stack's libvirtd does not see the other's
# domains, but the host directories and Molecule's state of a scenario are shared: the per-scenario lock
# lets the two stacks run side by side while never running the same scenario at once.
# flock -o: the lock fd must not leak into the daemons a scenario starts (libvirtd would hold it after
# the run). /run/lock where the host has it (systemd-tmpfiles makes it), else /tmp: never a reason to fail.
vm_lockdir=/run/lock
[ -d "$vm_lockdir" ] && [ -w "$vm_lockdir" ] || vm_lockdir=/tmp
vm_lock=$vm_lockdir/vfs-molecule.lock

# vm_lock_reexec SCRIPT ARGS...: run SCRIPT again under the host-wide lock unless this process holds it
vm_lock_reexec() {
  if [ "${VFS_VM_LOCKED:-0}" != 1 ]; then
    flock -n "$vm_lock" true || echo "[vm] another VM tier runs on this host; waiting for $vm_lock"
    VFS_VM_LOCKED=1 exec flock -o "$vm_lock" bash "$@"
  fi
}

# vm_scenario_locked NAME COMMAND...: COMMAND while holding scenario NAME's lock
vm_scenario_locked() {
  local name=$1
  shift
  flock -n "$vm_lockdir/vfs-molecule-$name.lock" true ||
    echo "[vm] scenario $name runs on the other stack; waiting for it"
  flock -o "$vm_lockdir/vfs-molecule-$name.lock" "$@"
}
