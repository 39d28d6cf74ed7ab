# shellcheck shell=bash
# Benchmark guests started with QEMU directly (never through libvirt, so they cannot collide with the
# libvirt-based Molecule runs on the same host). Sourced by bench/converge/run.sh and bench/io/run.sh.
#
#   bench_init NAME            work dir /var/tmp/vfs-bench/NAME.<pid>, EXIT/INT/TERM trap that always
#                              kills what was started here (by pid) and removes the work dir
#   bench_virtiofsd TAG DIR CACHE [POOL] [QUEUE]
#                              start one C virtiofsd for host DIR; QEMU offers it as tag TAG; its log is
#                              $BENCH_WORK/vfsd-TAG.log (every request with BENCH_VFSD_DEBUG=1)
#   bench_cpu_ticks PID...     utime+stime (clock ticks) of the processes, all threads
#   bench_qemu_ticks           "VCPU OTHER": ticks of QEMU's vCPU threads and of all its other threads
#   bench_9p TAG DIR           offer DIR over 9p (virtio-9p, security_model=passthrough)
#   bench_vm_start             overlay + qemu-system-x86_64 + wait for SSH; sets BENCH_PORT
#   bench_ssh CMD...           run CMD in the guest as root (multiplexed over one control master)
#   bench_accel_label          "KVM" or "emulated (TCG)"
#
# Only 127.0.0.1 is ever used: SSH is forwarded by slirp (restrict=on) to 127.0.0.1:PORT.
# Logging (lab_log, lab_die), process stopping, the SSH options and the wait for SSH come from the
# lab's shell library (lab/lib.sh), the image, accelerator, overlay and port from the lab scripts.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(cd "$BENCH_LIB_DIR/.." && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_LAB=$BENCH_REPO/lab
LAB_LOG_PREFIX=bench
LAB_TAG=bench
# shellcheck source=../../lab/lib.sh
. "$BENCH_LAB/lib.sh"
BENCH_TMP_ROOT=${BENCH_TMP_ROOT:-/var/tmp/vfs-bench}
BENCH_VIRTIOFSD=${BENCH_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
BENCH_QEMU=${BENCH_QEMU:-qemu-system-x86_64}
BENCH_BOOT_TIMEOUT=${BENCH_BOOT_TIMEOUT:-600}
# guest CPU model under TCG: what the generated domain template gives an emulated guest, `max` minus the
# schema's vm_tcg_cpu_features_disabled (erms: issue 15), so the bench measures the product's guest;
# BENCH_CPU=max puts rep movsb back (the before of issue 15's A/B)
bench_default_cpu() {
  node -e '
    const s = require(process.argv[1]);
    const off = s.$defs.domain_template.properties.vm_tcg_cpu_features_disabled.default;
    process.stdout.write(["max", ...off.map((f) => `${f}=off`)].join(","));
  ' "$BENCH_REPO/schemas/virtio-fs-mount.schema.json"
}
BENCH_CPU=${BENCH_CPU:-$(bench_default_cpu)}
# 1: virtiofsd logs every request (-o log_level=debug) and QEMU traces 9p reads/writes: request sizes
# can then be counted, but the logging costs time, so timed figures of such a run are not comparable
BENCH_VFSD_DEBUG=${BENCH_VFSD_DEBUG:-0}

BENCH_QEMU_PID=""
BENCH_VFSD_PIDS=()
BENCH_FS_ARGS=()
BENCH_WORK=""
BENCH_PORT=""

bench_cleanup() { # [RC]: the exit status to end with (default: the one the trap saw)
  local rc=${1:-$?} p
  trap - EXIT INT TERM
  if [[ -n $BENCH_WORK && -n $BENCH_PORT && -S $BENCH_WORK/ssh-ctl ]]; then
    ssh -o ControlPath="$BENCH_WORK/ssh-ctl" -O exit -p "$BENCH_PORT" root@127.0.0.1 >/dev/null 2>&1 || true
  fi
  if [[ -n $BENCH_QEMU_PID ]]; then
    if [[ $rc -ne 0 && -r $BENCH_WORK/serial.log ]]; then
      lab_log "last lines of the guest console:"
      tail -n 15 "$BENCH_WORK/serial.log" >&2 || true
    fi
    lab_kill_pid "$BENCH_QEMU_PID" "$(lab_comm "$BENCH_QEMU")"
  fi
  for p in "${BENCH_VFSD_PIDS[@]}"; do
    lab_kill_pid "$p" "$(lab_comm "$BENCH_VIRTIOFSD")"
  done
  if [[ -n $BENCH_WORK && -d $BENCH_WORK ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
      lab_log "kept $BENCH_WORK (BENCH_KEEP=1)"
    else
      rm -rf "$BENCH_WORK"
    fi
  fi
  lab_log "cleaned up (exit $rc)"
  exit "$rc"
}

bench_init() { # NAME
  BENCH_NAME=$1
  LAB_TAG=$1
  [[ $(id -u) -eq 0 ]] || lab_die "must run as root (virtiofsd needs it)"
  mkdir -p "$BENCH_TMP_ROOT"
  chmod 755 "$BENCH_TMP_ROOT"
  BENCH_WORK=$BENCH_TMP_ROOT/$1.$$
  rm -rf "$BENCH_WORK"
  mkdir -p "$BENCH_WORK"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  lab_log "work dir $BENCH_WORK"
}

bench_accel() { bash "$BENCH_LAB/accel.sh" 2>/dev/null; }
bench_accel_label() { if [[ $(bench_accel) == kvm ]]; then echo KVM; else echo "emulated (TCG)"; fi; }

bench_image() { # cache dir of the lab image (builds it when missing)
  local out
  out=$(bash "$BENCH_LAB/build-image.sh" 2>"$BENCH_WORK/build-image.log") || {
    cat "$BENCH_WORK/build-image.log" >&2
    lab_die "lab/build-image.sh failed"
  }
  BENCH_IMAGE=${out##*$'\n'}
  [[ -f $BENCH_IMAGE/.complete ]] || lab_die "no complete image in $BENCH_IMAGE"
}

# bench_virtiofsd TAG DIR CACHE [POOL] [QUEUE]: POOL empty = virtiofsd default (0 for the C daemon of
# QEMU 7.2 and for the Rust one); QUEUE default 1024. Sets BENCH_VFSD_PID[TAG].
declare -A BENCH_VFSD_PID=()
bench_virtiofsd() {
  local tag=$1 dir=$2 cache=$3 pool=${4:-} queue=${5:-1024} i n=${#BENCH_VFSD_PIDS[@]}
  local sock=$BENCH_WORK/vfsd$n.sock
  local args=(--socket-path="$sock" -o source="$dir" -o cache="$cache")
  [[ -n $pool ]] && args+=(--thread-pool-size="$pool")
  [[ $BENCH_VFSD_DEBUG == 1 ]] && args+=(-o log_level=debug)
  mkdir -p "$dir"
  "$BENCH_VIRTIOFSD" "${args[@]}" >"$BENCH_WORK/vfsd-$tag.log" 2>&1 &
  BENCH_VFSD_PIDS+=($!)
  BENCH_VFSD_PID[$tag]=$!
  for ((i = 0; i < 100; i++)); do
    [[ -S $sock ]] && break
    kill -0 "${BENCH_VFSD_PIDS[-1]}" 2>/dev/null || {
      cat "$BENCH_WORK/vfsd-$tag.log" >&2
      lab_die "virtiofsd for $tag exited"
    }
    sleep 0.1
  done
  [[ -S $sock ]] || lab_die "virtiofsd for $tag: no socket after 10 s"
  BENCH_FS_ARGS+=(-chardev "socket,id=vfs$n,path=$sock"
    -device "vhost-user-fs-pci,queue-size=$queue,chardev=vfs$n,tag=$tag")
}

bench_cpu_ticks() { # PID... -> utime+stime in clock ticks of the processes and their children, summed
  # (a process's stat covers all its threads; the C virtiofsd serves from a child it forks for its sandbox)
  local p sum=0 t
  for p in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
    t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null) || t=0
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

bench_qemu_ticks() { # -> "VCPU OTHER" clock ticks of QEMU's vCPU threads ("CPU n/TCG|KVM") and the rest
  local d v=0 o=0 t
  for d in /proc/"$BENCH_QEMU_PID"/task/*; do
    t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "$d/stat" 2>/dev/null) || continue
    if [[ $(cat "$d/comm" 2>/dev/null) == CPU\ * ]]; then v=$((v + t)); else o=$((o + t)); fi
  done
  echo "$v $o"
}

bench_9p() { # TAG DIR
  mkdir -p "$2"
  BENCH_FS_ARGS+=(-virtfs "local,path=$2,mount_tag=$1,security_model=passthrough,id=$1")
}

# shellcheck disable=SC2029 # the command is meant to expand here and run in the guest
bench_ssh() { ssh "${LAB_SSH_OPTS[@]}" root@127.0.0.1 "$@"; }

_bench_qemu_alive() { kill -0 "$BENCH_QEMU_PID" 2>/dev/null; }

bench_vm_start() {
  [[ -n ${BENCH_IMAGE:-} ]] || bench_image
  local accel_args
  bash "$BENCH_LAB/domain.sh" overlay "$BENCH_IMAGE/base.qcow2" "$BENCH_WORK/disk.qcow2" 2>/dev/null
  BENCH_PORT=$(bash "$BENCH_LAB/domain.sh" free-port)
  if [[ $(bench_accel) == kvm ]]; then
    accel_args=(-accel kvm -cpu host)
  else
    # shellcheck disable=SC2054 # one QEMU option value, commas included
    accel_args=(-accel tcg,thread=multi -cpu "$BENCH_CPU")
  fi
  # the log trace backend writes to -D; the events give every 9p read/write request with its size
  [[ $BENCH_VFSD_DEBUG == 1 ]] && accel_args+=(-D "$BENCH_WORK/qemu-trace.log" -trace v9fs_read -trace v9fs_write)
  # one control master: the runs issue thousands of short commands
  lab_ssh_opts "$BENCH_IMAGE/id_ed25519" "$BENCH_PORT" -o ControlMaster=auto \
    -o ControlPath="$BENCH_WORK/ssh-ctl" -o ControlPersist=600
  "$BENCH_QEMU" -name "vfs-bench-$BENCH_NAME,debug-threads=on" "${accel_args[@]}" -m 1024 -smp 2 \
    -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem \
    -kernel "$BENCH_IMAGE/$(cat "$BENCH_IMAGE/kernel")" -initrd "$BENCH_IMAGE/initrd.img" \
    -append "$(cat "$BENCH_IMAGE/cmdline")" \
    -drive "file=$BENCH_WORK/disk.qcow2,if=virtio,format=qcow2" \
    "${BENCH_FS_ARGS[@]}" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$BENCH_PORT-:22" -device virtio-net-pci,netdev=n0 \
    -display none -serial "file:$BENCH_WORK/serial.log" -qmp "unix:$BENCH_WORK/qmp.sock,server=on,wait=off" \
    >"$BENCH_WORK/qemu.log" 2>&1 &
  BENCH_QEMU_PID=$!
  lab_log "qemu pid $BENCH_QEMU_PID ($(bench_accel_label)), ${#BENCH_VFSD_PIDS[@]} virtiofsd, ssh on 127.0.0.1:$BENCH_PORT"
  local rc=0
  lab_wait_ssh "$BENCH_PORT" "$BENCH_BOOT_TIMEOUT" _bench_qemu_alive || rc=$?
  if ((rc == 1)); then
    cat "$BENCH_WORK/qemu.log" >&2
    lab_die "qemu exited before ssh answered"
  fi
  ((rc == 0)) || lab_die "no ssh after ${BENCH_BOOT_TIMEOUT}s"
  BENCH_BOOT_S=$LAB_SSH_WAIT_S
  lab_log "guest up after ${BENCH_BOOT_S}s"
}
