# shellcheck shell=bash
# Common helpers for the VM lab scripts (sourced, not executed).
#   LAB_DIR   directory of the lab scripts
#   LAB_REPO  repository root
#   lab_log   one progress line "[lab 12.3s] <tag>: msg" on stderr (stdout stays clean for results)

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_REPO=$(cd "$LAB_DIR/.." && pwd)
LAB_TAG=${LAB_TAG:-lab}
_lab_t0=${EPOCHREALTIME/./}

lab_elapsed() {
  local now=${EPOCHREALTIME/./}
  local d=$(((now - _lab_t0) / 100000))
  printf '%d.%d' $((d / 10)) $((d % 10))
}

lab_log() { printf '[lab %ss] %s: %s\n' "$(lab_elapsed)" "$LAB_TAG" "$*" >&2; }

lab_die() {
  lab_log "ERROR: $*"
  exit 1
}

lab_need_root() { [[ $(id -u) -eq 0 ]] || lab_die "must run as root"; }

lab_need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || lab_die "missing command '$c' (run lab/install-deps.sh)"
  done
}

# PIDs of processes whose /proc/PID/comm is exactly $1 (no pgrep dependency).
lab_pids_of() {
  local name=$1 d comm found=1
  for d in /proc/[0-9]*; do
    { read -r comm <"$d/comm"; } 2>/dev/null || continue
    if [[ $comm == "$name" ]]; then
      echo "${d#/proc/}"
      found=0
    fi
  done
  return $found
}

lab_pid_of() { # first PID named $1; fails when none
  local p
  p=$(lab_pids_of "$1") || return 1
  echo "${p%%$'\n'*}"
}

lab_pid_is() { # PID NAME: true when PID is alive and its comm is NAME
  local comm
  [[ -n ${1:-} ]] && { read -r comm <"/proc/$1/comm"; } 2>/dev/null && [[ $comm == "$2" ]]
}
