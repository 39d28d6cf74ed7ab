#!/usr/bin/env bash
# Start/stop a system libvirtd by hand (no systemd needed).
#
#   libvirtd.sh start    start virtlogd + libvirtd unless a libvirtd already runs; wait for virsh
#   libvirtd.sh stop [--force]  stop only the daemons a previous `start` started (recorded in the
#                        state dir); without --force it leaves them running while any domain runs
#   libvirtd.sh status   exit 0 when libvirtd runs (prints pid and who started it), 3 otherwise
#
# State dir: ${LAB_STATE:-<repo>/.cache/lab-state}: virtlogd.pid / libvirtd.pid (written only for
# daemons started here), libvirtd.log (warnings and errors of a libvirtd started here).
set -euo pipefail
LAB_TAG=libvirtd
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE=${LAB_STATE:-$LAB_REPO/.cache/lab-state}
LIBVIRTD=${LAB_LIBVIRTD:-/usr/sbin/libvirtd}
VIRTLOGD=${LAB_VIRTLOGD:-/usr/sbin/virtlogd}

lock_state() {
  mkdir -p "$STATE"
  exec 8>"$STATE/.lock"
  flock 8
}

# wait_pidfile FILE NAME TIMEOUT: echo the pid once FILE names a live NAME process
wait_pidfile() {
  local f=$1 name=$2 n=$(($3 * 10)) pid
  while ((n-- > 0)); do
    pid=$(cat "$f" 2>/dev/null || true)
    if lab_pid_is "$pid" "$name"; then
      echo "$pid"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

wait_virsh() {
  local n=$((${1:-60} * 5)) v
  while ((n-- > 0)); do
    if v=$(virsh -c qemu:///system version 2>/dev/null); then
      lab_log "libvirt answers: $(echo "$v" | grep -E 'libvirt|hypervisor' | tr -s ' ' | paste -sd ';' -)"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

recorded_pid() { # NAME: pid recorded by us and still alive as NAME
  local pid
  pid=$(cat "$STATE/$1.pid" 2>/dev/null || true)
  lab_pid_is "$pid" "$1" && echo "$pid"
}

cmd_start() {
  lab_need_root
  lock_state
  local pid
  if pid=$(lab_host_pid_of libvirtd); then
    if [[ $(recorded_pid libvirtd || true) == "$pid" ]]; then
      lab_log "libvirtd already running (pid $pid, started by this script earlier)"
    else
      lab_log "libvirtd already running (pid $pid, not ours: will not stop it)"
    fi
  else
    rm -f "$STATE/libvirtd.pid" "$STATE/virtlogd.pid"
    if pid=$(lab_host_pid_of virtlogd); then
      lab_log "virtlogd already running (pid $pid, not ours)"
    else
      "$VIRTLOGD" -d </dev/null >/dev/null 2>&1 8>&-
      pid=$(wait_pidfile /run/virtlogd.pid virtlogd 10) || lab_die "virtlogd did not start"
      echo "$pid" >"$STATE/virtlogd.pid"
      lab_log "virtlogd started (pid $pid)"
    fi
    LIBVIRT_LOG_OUTPUTS="3:file:$STATE/libvirtd.log" "$LIBVIRTD" -d </dev/null >/dev/null 2>&1 8>&-
    pid=$(wait_pidfile /run/libvirtd.pid libvirtd 20) || lab_die "libvirtd did not start (see $STATE/libvirtd.log)"
    echo "$pid" >"$STATE/libvirtd.pid"
    lab_log "libvirtd started (pid $pid, log $STATE/libvirtd.log)"
  fi
  wait_virsh 60 || lab_die "virsh -c qemu:///system does not answer (see $STATE/libvirtd.log)"
}

stop_one() { # NAME
  local name=$1 pid
  if ! pid=$(recorded_pid "$name"); then
    [[ -e $STATE/$name.pid ]] && lab_log "$name: recorded pid no longer running"
    rm -f "$STATE/$name.pid"
    return 0
  fi
  lab_kill_pid "$pid" "$name" 15
  rm -f "$STATE/$name.pid"
  lab_log "$name stopped (pid $pid)"
}

cmd_stop() {
  lab_need_root
  lock_state
  if ! recorded_pid libvirtd >/dev/null && ! recorded_pid virtlogd >/dev/null; then
    lab_log "nothing to stop (no daemon started by this script is running)"
    rm -f "$STATE/libvirtd.pid" "$STATE/virtlogd.pid"
    return 0
  fi
  if recorded_pid libvirtd >/dev/null; then
    local running
    running=$(virsh -q -c qemu:///system list --name 2>/dev/null | sed '/^$/d' | paste -sd ' ' - || true)
    if [[ -n $running ]]; then
      if ((FORCE)); then
        lab_log "warning: domains still running (their QEMU keeps running, unmanaged): $running"
      else
        lab_log "not stopping: domains still running ($running); stop them first or use: $0 stop --force"
        return 0
      fi
    fi
  fi
  stop_one libvirtd
  stop_one virtlogd
}

cmd_status() {
  local pid who
  if pid=$(lab_host_pid_of libvirtd); then
    who="not started by this script"
    [[ $(recorded_pid libvirtd || true) == "$pid" ]] && who="started by this script"
    echo "libvirtd running (pid $pid, $who)"
    if pid=$(lab_host_pid_of virtlogd); then
      who="not started by this script"
      [[ $(recorded_pid virtlogd || true) == "$pid" ]] && who="started by this script"
      echo "virtlogd running (pid $pid, $who)"
    else
      echo "virtlogd not running"
    fi
    return 0
  fi
  echo "libvirtd not running"
  return 3
}

# LAB_STACK=debian13: the second stack's daemons (stack-debian13.sh), never the host's.
if [[ $(lab_stack) == debian13 ]]; then
  case ${1:-} in
    start | stop | status) exec "$LAB_DIR/stack-debian13.sh" "$1" ;;
  esac
fi

FORCE=0
[[ ${2:-} == --force ]] && FORCE=1
case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop [--force]|status" >&2
    exit 2
    ;;
esac
