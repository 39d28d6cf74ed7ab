#!/usr/bin/env bash
# A second hypervisor stack on this Debian 12 machine: Debian 13 (trixie) libvirt 11 / QEMU 10 /
# Rust virtiofsd, run from an mmdebstrap rootfs beside the host's own libvirtd.
#
#   stack-debian13.sh build        build or reuse the rootfs; last stdout line = rootfs dir
#   stack-debian13.sh rootfs       print the rootfs dir without building
#   stack-debian13.sh start        mount namespace + pivot_root, virtlogd -d, libvirtd -d, wait for virsh
#   stack-debian13.sh stop         destroy its domains, stop its daemons, unmount (never the host's)
#   stack-debian13.sh virsh ARGS   virsh inside the rootfs (its sockets are on the rootfs's /run)
#   stack-debian13.sh status       exit 0 when its libvirtd runs, 3 otherwise
#
# Why pivot_root and not chroot (../../shared/notes/debian13-stack.md): in a plain chroot libvirt's
# helpers setns() into QEMU's mount namespace, whose root is the host's /, and chowned/labelled host
# files outside the chroot. Here the daemons' root IS the rootfs, so nothing outside the bind mounts
# below is reachable. The rootfs's /run is its own tmpfs: its sockets never meet the host libvirtd's.
#
# Cache: ${LAB_CACHE:-<repo>/.cache/lab}/stack-debian13-<hash>/rootfs; <hash> = sha256 of the
# recipe (the build function's text, packages, suite, mirrors, kvm gid). The recipe file is named stack-recipe so
# that build-image.sh --prune (which drops dirs holding a `recipe`) leaves it alone.
# Bind mounts (same absolute paths inside): LAB_CACHE read-only; LAB_STACK_BINDS read-write
# (default "/var/tmp /tmp": Molecule's and smoke.sh's VM dirs and shares live there).
set -euo pipefail
LAB_TAG=stack-debian13
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=trixie
MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# python3 and nodejs: Ansible reaches this hypervisor through the community.general.chroot connection,
# and runs its builtin modules (Python) and virtio_fs_domain (Node.js) inside it, as on a real one.
PACKAGES=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils virtiofsd python3 nodejs)
CACHE_ROOT=${LAB_CACHE:-$LAB_REPO/.cache/lab}
BINDS=${LAB_STACK_BINDS:-/var/tmp /tmp}
KVM_GID=$(getent group kvm | cut -d: -f3 || true)

recipe() { # what the rootfs depends on: the build step itself, not start/stop (editing those keeps the cache)
  declare -f cmd_build lab_mmdebstrap
  printf '%s\n' "${PACKAGES[*]}" "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "kvm=$KVM_GID"
}

cmd_build() {
  if [[ -f $OUT/.complete ]]; then
    lab_log "cached rootfs $R"
    echo "$R"
    return 0
  fi
  lab_need_root
  lab_need_cmd mmdebstrap flock
  mkdir -p "$CACHE_ROOT"
  chmod 755 "$CACHE_ROOT" "$(dirname "$CACHE_ROOT")" 2>/dev/null || true
  exec 9>"$CACHE_ROOT/.stack-debian13-$HASH.lock"
  flock -n 9 || {
    lab_log "another build of this rootfs runs; waiting"
    flock 9
  }
  if [[ -f $OUT/.complete ]]; then
    echo "$R"
    return 0
  fi
  local work
  work=$(mktemp -d "$CACHE_ROOT/.stack-debian13-build.XXXXXX")
  chmod 755 "$work"
  lab_log "mmdebstrap $SUITE (${PACKAGES[*]})"
  if ! lab_mmdebstrap apt "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$work/rootfs" "$work/mmdebstrap.log" "${PACKAGES[@]}" 9>&-; then
    rm -rf "$work"
    lab_die "mmdebstrap failed"
  fi
  # Same kvm gid as the host: otherwise libvirt re-probes QEMU on every call (12 s instead of 0.25 s).
  if [[ -n $KVM_GID ]] && [[ $(chroot "$work/rootfs" getent group kvm | cut -d: -f3) != "$KVM_GID" ]]; then
    chroot "$work/rootfs" groupmod -g "$KVM_GID" kvm
  fi
  mkdir -p "$work/rootfs/.oldroot"
  local b
  for b in $BINDS; do mkdir -p "$work/rootfs$b"; done
  chmod 1777 "$work/rootfs/tmp" "$work/rootfs/var/tmp"
  recipe >"$work/stack-recipe"
  chroot "$work/rootfs" dpkg-query -W -f '${Package} ${Version}\n' libvirt-daemon qemu-system-x86 virtiofsd >"$work/versions" 2>/dev/null || true
  touch "$work/.complete"
  rm -rf "$OUT"
  mv "$work" "$OUT"
  lab_log "rootfs ready ($(du -sm "$R" | cut -f1) MB): $(paste -sd ';' "$OUT/versions")"
  echo "$R"
}

HASH=$(recipe | sha256sum | cut -c1-16)
OUT=$CACHE_ROOT/stack-debian13-$HASH
R=$OUT/rootfs

is_mounted() { mountpoint -q "$1"; }

# PIDs of NAME whose root directory is this rootfs (the host's own daemons have / as root).
stack_pids() { lab_pids_in_root "$1" "$R"; }

mount_tree() {
  # The rootfs bound onto itself: a mount point virtiofsd's own pivot_root accepts. Private, so
  # nothing mounted below it propagates to the host's peers (and back).
  is_mounted "$R" || mount --bind "$R" "$R"
  mount --make-private "$R"
  is_mounted "$R/proc" || mount -t proc proc "$R/proc"
  if ! is_mounted "$R/sys"; then
    mount --rbind /sys "$R/sys"
    mount --make-rslave "$R/sys"
  fi
  if ! is_mounted "$R/dev"; then
    mount --bind /dev "$R/dev"
    mount --make-private "$R/dev"
  fi
  if ! is_mounted "$R/dev/pts"; then
    mount --bind /dev/pts "$R/dev/pts"
    mount --make-private "$R/dev/pts"
  fi
  is_mounted "$R/dev/shm" || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
  is_mounted "$R/run" || mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
  mkdir -p "$R/run/lock" "$R$CACHE_ROOT"
  if ! is_mounted "$R$CACHE_ROOT"; then
    mount --bind "$CACHE_ROOT" "$R$CACHE_ROOT"
    mount --make-private "$R$CACHE_ROOT"
    mount -o remount,bind,ro "$R$CACHE_ROOT"
  fi
  local b
  for b in $BINDS; do
    mkdir -p "$R$b"
    if ! is_mounted "$R$b"; then
      mount --bind "$b" "$R$b"
      mount --make-private "$R$b"
    fi
  done
}

unmount_tree() {
  is_mounted "$R" || return 0
  umount -R "$R" 2>/dev/null || umount -R -l "$R"
}

wait_virsh() { # TIMEOUT seconds
  local deadline=$((SECONDS + $1)) v
  while ((SECONDS < deadline)); do
    if v=$(chroot "$R" virsh -c qemu:///system version 2>/dev/null); then
      lab_log "libvirt answers: $(echo "$v" | grep -E 'libvirt|hypervisor' | tr -s ' ' | paste -sd ';' -)"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

wait_pid() { # NAME TIMEOUT: echo the pid of NAME in this stack
  local deadline=$((SECONDS + $2)) p
  while ((SECONDS < deadline)); do
    p=$(stack_pids "$1" | head -n1)
    [[ -n $p ]] && echo "$p" && return 0
    sleep 0.1
  done
  return 1
}

cmd_start() {
  lab_need_root
  [[ -f $OUT/.complete ]] || cmd_build >/dev/null
  local pid
  if pid=$(stack_pids libvirtd | head -n1) && [[ -n $pid ]]; then
    lab_log "libvirtd of this stack already running (pid $pid)"
  else
    mount_tree
    # unshare's default propagation is private: pivot_root and the umount stay in the new namespace.
    unshare --mount -- bash -c '
      set -e
      cd "$1"
      pivot_root . .oldroot
      cd /
      umount -l /.oldroot
      virtlogd -d </dev/null >/dev/null 2>&1
      LIBVIRT_LOG_OUTPUTS="3:file:/run/libvirtd.log" libvirtd -d </dev/null >/dev/null 2>&1
    ' stack "$R" 8>&- 9>&-
    pid=$(wait_pid libvirtd 20) || lab_die "libvirtd did not start (see $R/run/libvirtd.log)"
    lab_log "libvirtd started (pid $pid, root $R, log $R/run/libvirtd.log)"
  fi
  wait_virsh "${LAB_STACK_START_TIMEOUT:-90}" || lab_die "virsh in $R does not answer (see $R/run/libvirtd.log)"
}

cmd_stop() {
  lab_need_root
  local d p
  if [[ -n $(stack_pids libvirtd) ]]; then
    for d in $(timeout 30 chroot "$R" virsh -q -c qemu:///system list --all --name 2>/dev/null || true); do
      timeout 30 chroot "$R" virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
      timeout 30 chroot "$R" virsh -q -c qemu:///system undefine "$d" --nvram >/dev/null 2>&1 ||
        timeout 30 chroot "$R" virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1 || true
      lab_log "domain $d destroyed"
    done
  fi
  for p in $(stack_pids libvirtd); do lab_kill_pid "$p" libvirtd 15 && lab_log "libvirtd stopped (pid $p)"; done
  for p in $(stack_pids virtlogd); do lab_kill_pid "$p" virtlogd 15 && lab_log "virtlogd stopped (pid $p)"; done
  # Leftovers of this stack only (a QEMU or virtiofsd whose root is the rootfs).
  for d in qemu-system-x86 virtiofsd; do
    for p in $(stack_pids "$d"); do lab_kill_pid "$p" "$d" 15 && lab_log "$d leftover stopped (pid $p)"; done
  done
  unmount_tree
  lab_log "stopped; mounts under $R released"
}

cmd_status() {
  local pid
  pid=$(stack_pids libvirtd | head -n1)
  if [[ -n $pid ]]; then
    echo "debian13 libvirtd running (pid $pid, root $R)"
    chroot "$R" virsh -c qemu:///system version 2>/dev/null | sed -n 's/^Running hypervisor/  hypervisor/p;s/^Using library/  library/p' || true
    return 0
  fi
  echo "debian13 libvirtd not running"
  return 3
}

case ${1:-} in
  build) cmd_build ;;
  rootfs) echo "$R" ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  virsh)
    shift
    exec chroot "$R" virsh "$@"
    ;;
  *)
    echo "usage: $0 build|rootfs|start|stop|status|virsh ARGS..." >&2
    exit 2
    ;;
esac
