# shellcheck shell=bash
# Common helpers for the VM lab scripts (sourced, not executed).
#   LAB_DIR   directory of the lab scripts
#   LAB_REPO  repository root
#   lab_log   one progress line "[lab 12.3s] <tag>: msg" on stderr (stdout stays clean for results);
#             LAB_LOG_PREFIX replaces "lab" (the benches print "[bench ...]")
# Sourced by the lab scripts here and by bench/lib/vm.sh: the benches start QEMU without libvirt
# but probe, reach and stop their guests with these same helpers.

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

lab_log() { printf '[%s %ss] %s: %s\n' "${LAB_LOG_PREFIX:-lab}" "$(lab_elapsed)" "$LAB_TAG" "$*" >&2; }

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

# PIDs named $1 whose root directory is $2, compared by device:inode (after pivot_root, readlink
# /proc/PID/root only says "/"). A Debian 13 stack (stack-debian13.sh) runs its own libvirtd and
# virtlogd chrooted into its rootfs, visible in the same /proc: $2 = / selects the host's own.
lab_pids_in_root() {
  local p root
  root=$(stat -c %d:%i "$2" 2>/dev/null) || return 0
  for p in $(lab_pids_of "$1" || true); do
    [[ $(stat -L -c %d:%i "/proc/$p/root" 2>/dev/null) == "$root" ]] && echo "$p"
  done
  return 0
}

lab_host_pid_of() { # first PID named $1 running in the host's / (not in a stack's rootfs); fails when none
  local p
  p=$(lab_pids_in_root "$1" /)
  [[ -n $p ]] || return 1
  echo "${p%%$'\n'*}"
}

lab_pid_is() { # PID NAME: true when PID is alive and its comm is NAME
  local comm
  [[ -n ${1:-} ]] && { read -r comm <"/proc/$1/comm"; } 2>/dev/null && [[ $comm == "$2" ]]
}

# lab_kill_pid PID NAME [TIMEOUT_S]: SIGTERM, then SIGKILL after TIMEOUT_S (default 10), but only
# while PID still runs NAME: a recycled PID of another program is never signalled. NAME is the
# kernel's comm, i.e. the program name cut to 15 characters ("qemu-system-x86").
lab_kill_pid() {
  local pid=$1 name=$2 n=$((${3:-10} * 10))
  lab_pid_is "$pid" "$name" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  while ((n-- > 0)); do
    lab_pid_is "$pid" "$name" || return 0
    sleep 0.1
  done
  lab_log "$name (pid $pid) ignored SIGTERM for ${3:-10} s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# lab_comm PROGRAM: the comm a process running PROGRAM (a path or a name) shows in /proc/PID/comm
lab_comm() {
  local n=${1##*/}
  echo "${n:0:15}"
}

# lab_ssh_opts KEY PORT [SSH-OPTION...]: sets LAB_SSH_OPTS for `ssh "${LAB_SSH_OPTS[@]}" root@127.0.0.1`
# (guests are reached only through a user-mode forward on the loopback; their host keys are
# throw-away, so they are neither checked nor stored).
lab_ssh_opts() {
  local key=$1 port=$2
  shift 2
  [[ -r $key ]] || lab_die "SSH key $key not readable (build the image first or set LAB_SSH_KEY)"
  LAB_SSH_OPTS=(-i "$key" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o ConnectTimeout=5 -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR "$@")
}

# lab_probe_banner PORT: true when an SSH banner arrives within 5 s (like ConnectTimeout). Before the
# guest network is up, slirp keeps the host-side connection open while it retries the SYN towards
# the guest, so the banner arrives on this very probe as soon as sshd listens; once the guest is up
# but sshd is not, the guest resets and the probe returns at once.
lab_probe_banner() {
  local t0=${EPOCHREALTIME/./} rc=0
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 2
    read -r -t 5 line <&3 || exit 3
    [[ $line == SSH-* ]] || exit 4
  ) 2>/dev/null || rc=$?
  [[ ${LAB_DEBUG:-0} == 1 ]] && lab_log "probe port $1: rc=$rc after $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
  return $rc
}

# lab_wait_ssh PORT TIMEOUT_S ALIVE...: wait until `ssh root@127.0.0.1 -p PORT true` works (with
# LAB_SSH_OPTS). The command ALIVE... runs between attempts and fails once the guest can no longer
# come up (domain shut off, QEMU exited). Returns 0 (LAB_SSH_WAIT_S = seconds waited, one decimal),
# 1 when ALIVE failed, 2 on timeout.
lab_wait_ssh() {
  local port=$1 timeout=$2 t0=${EPOCHREALTIME/./} next=10 el
  shift 2
  while :; do
    # Cheap probe first: the sshd banner. A full ssh attempt against a guest that is not up yet
    # blocks for ConnectTimeout (slirp accepts the TCP connection on the host side at once).
    if lab_probe_banner "$port" && ssh "${LAB_SSH_OPTS[@]}" root@127.0.0.1 true </dev/null >/dev/null 2>&1; then
      el=$(((${EPOCHREALTIME/./} - t0) / 100000))
      # shellcheck disable=SC2034 # read by the callers
      LAB_SSH_WAIT_S=$((el / 10)).$((el % 10))
      return 0
    fi
    el=$(((${EPOCHREALTIME/./} - t0) / 1000000))
    "$@" || return 1
    ((el < timeout)) || return 2
    if ((el >= next)); then
      lab_log "waiting for ssh on 127.0.0.1:$port (${el}s)"
      next=$((next + 10))
    fi
    sleep 0.5
  done
}

# lab_render_domain OUT NAME=STRING|NAME:=JSON...: renders the GENERATED domain template
# (generated/templates/controller.xml.j2) to OUT with Ansible's template module, as Molecule's create
# step does, so every guest the lab boots tests the template users get. Variables are the role's
# (vm_name, vm_domain_type, virtio_fs_mounts:='[...]', ...). They travel as one YAML file (-e @file)
# with every string tagged !unsafe: no value is split as key=value or templated by Ansible (a path
# holding "{{" stays a path).
lab_render_domain() {
  local out=$1 vars log rc=0
  shift
  [[ -x $LAB_REPO/.venv/bin/ansible ]] || lab_die "no $LAB_REPO/.venv/bin/ansible (run scripts/setup-venv.sh)"
  vars=$(mktemp)
  log=$(mktemp)
  python3 - "$out" "$LAB_REPO/generated/templates/controller.xml.j2" "$@" >"$vars" <<'PY' || rc=$?
import json, sys
out, src, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
v = {"lab_render_dest": out, "lab_render_src": src}
for pair in pairs:
    key, _, value = pair.partition("=")
    if key.endswith(":"):
        v[key[:-1]] = json.loads(value)
    else:
        v[key] = value
def unsafe(x):
    if isinstance(x, str):
        return "!unsafe " + json.dumps(x, ensure_ascii=False)
    if isinstance(x, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + unsafe(y) for k, y in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(unsafe(y) for y in x) + "]"
    return json.dumps(x)
print(unsafe(v))
PY
  if ((rc == 0)); then
    "$LAB_REPO/.venv/bin/ansible" localhost -c local -i localhost, \
      -e ansible_python_interpreter="$LAB_REPO/.venv/bin/python" -e "@$vars" \
      -m ansible.builtin.template -a 'src={{ lab_render_src }} dest={{ lab_render_dest }} mode=0644' >"$log" 2>&1 || rc=$?
    ((rc == 0)) || cat "$log" >&2
  fi
  rm -f "$vars" "$log"
  ((rc == 0)) || lab_die "rendering the generated domain template failed (exit $rc)"
}

# LAB_STACK chooses the hypervisor stack every lab script talks to: `debian12` (default: the host's
# own libvirtd) or `debian13` (libvirt 11 / QEMU 10 / Rust virtiofsd from stack-debian13.sh's rootfs,
# reached through its own sockets). lab_virsh ARGS runs the matching virsh.
lab_stack() {
  case ${LAB_STACK:-debian12} in
    debian12 | debian13) echo "${LAB_STACK:-debian12}" ;;
    *) lab_die "LAB_STACK='${LAB_STACK}': expected debian12 or debian13" ;;
  esac
}

lab_virsh() {
  if [[ $(lab_stack) == debian13 ]]; then
    "$LAB_DIR/stack-debian13.sh" virsh "$@"
  else
    virsh "$@"
  fi
}

# lab_qemu_log NAME: libvirt's per-domain QEMU log on the current stack
lab_qemu_log() {
  if [[ $(lab_stack) == debian13 ]]; then
    echo "$("$LAB_DIR/stack-debian13.sh" rootfs)/var/log/libvirt/qemu/$1.log"
  else
    echo "/var/log/libvirt/qemu/$1.log"
  fi
}

# lab_mmdebstrap VARIANT SUITE MIRROR SECURITY_MIRROR DEST LOG PACKAGE...: a Debian rootfs, without
# man pages, docs and locales, quickly (eatmydata). The guest image and the Debian 13 stack both use it;
# their cache keys include this function's text (declare -f), so changing it rebuilds both.
lab_mmdebstrap() {
  local variant=$1 suite=$2 mirror=$3 security=$4 dest=$5 log=$6
  shift 6
  local include
  include=$(
    IFS=,
    echo "$*"
  )
  mmdebstrap --mode=root --variant="$variant" --include="$include" \
    --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$dest" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" \
    "deb $security $suite-security main" >"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    return 1
  }
}
