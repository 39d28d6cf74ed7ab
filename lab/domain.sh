#!/usr/bin/env bash
# libvirt domain helpers for the VM lab (qemu:///system).
#
#   domain.sh up NAME XMLFILE PORT   virsh define + start, wait until `ssh -p PORT root@127.0.0.1 true`
#   domain.sh down NAME              destroy (if running) + undefine; never fails
#   domain.sh overlay BASE OUT       qemu-img create -f qcow2 -b BASE -F qcow2 OUT
#   domain.sh ssh PORT CMD...        run CMD in the guest (as ${LAB_SSH_USER:-root})
#   domain.sh free-port              print a free TCP port on 127.0.0.1, reserved host-wide for 15 min
#   domain.sh serial-log NAME        print the path of the domain's serial log file
#
# SSH key: $LAB_SSH_KEY, else $LAB_IMAGE_DIR/id_ed25519, else the one of the current image recipe
# (build-image.sh --dir). Boot timeout: LAB_BOOT_TIMEOUT (default 300 s).
set -euo pipefail
LAB_TAG=domain
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ssh_key() {
  if [[ -n ${LAB_SSH_KEY:-} ]]; then
    echo "$LAB_SSH_KEY"
  elif [[ -n ${LAB_IMAGE_DIR:-} ]]; then
    echo "$LAB_IMAGE_DIR/id_ed25519"
  else
    echo "$("$LAB_DIR/build-image.sh" --dir)/id_ed25519"
  fi
}

ssh_opts() { lab_ssh_opts "$(ssh_key)" "$1"; } # PORT

dom_exists() { lab_virsh -q -c qemu:///system dominfo "$1" >/dev/null 2>&1; }
dom_state() { lab_virsh -q -c qemu:///system domstate "$1" 2>/dev/null | head -n1 || true; }

serial_log() { # NAME: path of the first <serial type='file'> of the domain
  lab_virsh -q -c qemu:///system dumpxml "$1" 2>/dev/null |
    xmllint --xpath "string(/domain/devices/serial[@type='file']/source/@path)" - 2>/dev/null || true
}

diagnose() { # NAME: print what helps when a boot fails
  local name=$1 log
  lab_log "domain $name state: $(dom_state "$name")"
  log=$(serial_log "$name")
  if [[ -n $log && -r $log ]]; then
    echo "----- last 40 lines of serial log $log" >&2
    tail -n 40 "$log" >&2 || true
  fi
  local qlog
  qlog=$(lab_qemu_log "$name")
  if [[ -r $qlog ]]; then
    echo "----- last 15 lines of $qlog" >&2
    tail -n 15 "$qlog" >&2 || true
  fi
}

# QEMU runs as the qemu.conf user (Debian: libvirt-qemu). libvirt chowns the files themselves, but
# every parent directory must be searchable by that user (e.g. /root is 0700: "Permission denied").
check_qemu_access() { # XMLFILE
  local quser f d
  quser=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' /etc/libvirt/qemu.conf 2>/dev/null | tail -n1)
  quser=${quser:-libvirt-qemu}
  [[ $quser == root || $quser == +0 ]] && return 0
  id "$quser" >/dev/null 2>&1 || return 0
  command -v runuser >/dev/null 2>&1 || return 0
  while read -r f; do
    [[ -n $f ]] || continue
    d=$(dirname "$f")
    if ! runuser -u "$quser" -- test -x "$d" 2>/dev/null; then
      lab_log "warning: $quser cannot reach $d (needed for $f): expect 'Permission denied'; keep lab files in world-searchable directories (chmod 755 on each parent)"
    fi
  done < <(xmllint --xpath '/domain/devices/disk/source/@file | /domain/os/kernel | /domain/os/initrd' "$1" 2>/dev/null |
    sed -e 's/^ *file="\(.*\)"$/\1/' -e 's#</\?\(kernel\|initrd\)>##g')
}

dom_running() { # NAME: true while the domain runs; says why not otherwise
  local st
  st=$(dom_state "$1")
  [[ $st == running ]] && return 0
  lab_log "domain $1 is '$st' before ssh answered"
  return 1
}

cmd_up() {
  [[ $# -eq 3 ]] || lab_die "usage: up NAME XMLFILE PORT"
  local name=$1 xml=$2 port=$3 xname timeout=${LAB_BOOT_TIMEOUT:-300}
  [[ -r $xml ]] || lab_die "cannot read $xml"
  xname=$(xmllint --xpath 'string(/domain/name)' "$xml")
  [[ $xname == "$name" ]] || lab_die "$xml defines domain '$xname', not '$name'"
  if dom_exists "$name"; then
    lab_die "domain $name already defined (state: $(dom_state "$name")); run: $0 down $name"
  fi
  ssh_opts "$port"
  check_qemu_access "$xml"
  lab_virsh -q -c qemu:///system define "$xml" >/dev/null
  if ! lab_virsh -q -c qemu:///system start "$name" >/dev/null; then
    diagnose "$name"
    lab_die "virsh start $name failed"
  fi
  lab_log "domain $name started; waiting for ssh on 127.0.0.1:$port (timeout ${timeout}s)"
  local rc=0
  lab_wait_ssh "$port" "$timeout" dom_running "$name" || rc=$?
  if ((rc == 0)); then
    lab_log "domain $name: ssh answered ${LAB_SSH_WAIT_S}s after start"
    return 0
  fi
  diagnose "$name"
  ((rc == 1)) && lab_die "domain $name stopped before ssh answered"
  lab_die "domain $name: no ssh after ${timeout}s"
}

cmd_down() {
  [[ $# -eq 1 ]] || lab_die "usage: down NAME"
  local name=$1
  if ! dom_exists "$name"; then
    lab_log "domain $name absent"
    return 0
  fi
  if [[ $(dom_state "$name") != "shut off" ]]; then
    lab_virsh -q -c qemu:///system destroy "$name" >/dev/null 2>&1 || true
  fi
  lab_virsh -q -c qemu:///system undefine "$name" --nvram >/dev/null 2>&1 ||
    lab_virsh -q -c qemu:///system undefine "$name" >/dev/null 2>&1 || true
  if dom_exists "$name"; then
    lab_log "warning: domain $name still defined"
  else
    lab_log "domain $name destroyed and undefined"
  fi
  return 0
}

cmd_overlay() {
  [[ $# -eq 2 ]] || lab_die "usage: overlay BASE OUT"
  local base out=$2
  base=$(realpath -e "$1") # the backing path is stored in the overlay: keep it absolute
  qemu-img create -q -f qcow2 -b "$base" -F qcow2 "$out"
  chmod 644 "$out"
  lab_log "overlay $out -> $base"
}

cmd_ssh() {
  [[ $# -ge 2 ]] || lab_die "usage: ssh PORT CMD..."
  local port=$1
  shift
  ssh_opts "$port"
  exec ssh "${LAB_SSH_OPTS[@]}" "${LAB_SSH_USER:-root}@127.0.0.1" "$@"
}

# A port is free from the moment it is picked until QEMU binds it for its forward, seconds later: a
# second run picking in that window (another checkout's Molecule run, a smoke test, a bench) could
# get the same port from the kernel. Each pick is therefore reserved host-wide by an atomic mkdir
# in LAB_PORT_DIR; reservations expire after LAB_PORT_HOLD seconds, by then QEMU holds the port.
lock_root=/run/lock
[[ -d $lock_root && -w $lock_root ]] || lock_root=/tmp
PORT_DIR=${LAB_PORT_DIR:-$lock_root/vfs-lab-ports}
PORT_HOLD=${LAB_PORT_HOLD:-900}

unbound_port() { # a port nothing listens on right now
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  return 1
}

cmd_free_port() {
  local p i
  [[ -d $PORT_DIR ]] || mkdir -m 1777 "$PORT_DIR" 2>/dev/null || [[ -d $PORT_DIR ]] || lab_die "cannot create $PORT_DIR"
  find "$PORT_DIR" -mindepth 1 -maxdepth 1 -mmin "+$(((PORT_HOLD + 59) / 60))" -exec rm -rf {} + 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    p=$(unbound_port) || break
    if mkdir "$PORT_DIR/$p" 2>/dev/null; then
      echo "$p"
      return
    fi
    [[ ${LAB_DEBUG:-0} == 1 ]] && lab_log "port $p reserved by another run; picking again"
  done
  lab_die "no free port found"
}

sub=${1:-}
shift || true
case $sub in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  overlay) cmd_overlay "$@" ;;
  ssh) cmd_ssh "$@" ;;
  free-port) cmd_free_port ;;
  serial-log) serial_log "$@" ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
