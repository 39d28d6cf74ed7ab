# shellcheck shell=bash
# Sourced by the VM tier's scripts and the guest benchmarks: the host-wide lock that keeps two VM tiers
# (two checkouts, both stacks, or a benchmark) from running at once. The scenarios' domain names
# (vfs-<scenario>) and host directories (/var/tmp/vfs-molecule/<scenario>) are fixed, and each scenario
# starts by destroying them. The two stacks cannot share the host either: the Debian 13 stack binds the
# host's /sys, cgroup mounts included, into its rootfs, and the host's libvirtd 9.0 then takes those
# later cgroup mounts for its own (a live attach failed writing .../rootfs/sys/fs/cgroup/.../cgroup.procs).
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

