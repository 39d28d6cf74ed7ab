#!/usr/bin/env bash
# bench/io: the same fio/metadata jobs (bench/io/io-jobs.py) in ONE guest, in ONE run, on
#   virtio-fs cache=auto, cache=always, cache=none          (one virtiofsd each, own tag)
#   virtio-fs cache=auto with --thread-pool-size=64         (thread pool variant; the default is 0)
#   virtio-fs cache=auto with queue-size=128                (virtqueue size variant; others 1024)
#   virtio-fs cache=auto with the mount's readahead raised  (vfs-auto-ra: bdi read_ahead_kb=BENCH_IO_RA_KB)
#   9p (virtio-9p, msize=256 KiB)
#   the guest's own disk (virtio-blk, qcow2 overlay) and a guest tmpfs (pure guest page-cache copy cost)
# and natively on the host directory. Every share serves the same host directory; each target
# works in its own subdirectory of it.
#
# Before the timed rounds, a probe pass (BENCH_IO_PROBE=1, default) writes and then reads one
# BENCH_IO_SIZE_MIB file per guest target with dd bs=1M (caches dropped before the read) and records,
# per operation: throughput, CPU time of the QEMU vCPU threads, the other QEMU threads (9p server,
# block I/O), the target's virtiofsd and the guest (user/sys from /proc/stat), the share's bdi
# read_ahead_kb and mount options, and the requests the guest sent: virtio-blk from the disk's stat,
# virtio-fs from the daemon's debug log and 9p from QEMU's trace (both only with BENCH_VFSD_DEBUG=1,
# which slows the daemons: use it in a run of its own, e.g. with BENCH_IO_ROUNDS=0).
#
# Env: BENCH_IO_FILES (metadata files, default 10000), BENCH_IO_VARIANT_FILES (thread-pool, queue and
#      readahead variants, default 2000), BENCH_IO_SIZE_MIB (default 128), BENCH_IO_RUNTIME (s, default 5),
#      BENCH_IO_TARGETS (subset, space-separated), BENCH_IO_ROUNDS (default 2: every target runs once per
#      round, odd rounds in the listed order, even rounds reversed, so slow drift of the shared host hits
#      all targets alike; the report shows the median and the round-to-round spread), BENCH_IO_RA_KB
#      (readahead of vfs-auto-ra, default 1024), BENCH_IO_PROBE (default 1), BENCH_IO_RESULT (name of the
#      result files and report section, default io), BENCH_CPU (guest CPU model under TCG, default the template's: max minus vm_tcg_cpu_features_disabled;
#      BENCH_CPU=max puts erms back: the before of issue 15), BENCH_VFSD_DEBUG, BENCH_KEEP=1.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

FILES=${BENCH_IO_FILES:-10000}
VFILES=${BENCH_IO_VARIANT_FILES:-2000}
SIZE=${BENCH_IO_SIZE_MIB:-128}
RUNTIME=${BENCH_IO_RUNTIME:-5}
ALL_TARGETS="guest-disk tmpfs vfs-auto vfs-always vfs-none 9p vfs-auto-ra vfs-auto-pool64 vfs-auto-q128 native"
TARGETS=${BENCH_IO_TARGETS:-$ALL_TARGETS}
ROUNDS=${BENCH_IO_ROUNDS:-2}
RA_KB=${BENCH_IO_RA_KB:-1024}
PROBE=${BENCH_IO_PROBE:-1}
RESULT=${BENCH_IO_RESULT:-io}
[[ $RESULT =~ ^[a-z0-9_]+$ ]] || { echo "BENCH_IO_RESULT: letters, digits and _ only" >&2; exit 2; }
P9_OPTS=trans=virtio,version=9p2000.L,msize=262144
VFS_TARGETS="vfs-auto vfs-always vfs-none vfs-auto-ra vfs-auto-pool64 vfs-auto-q128"

bench_init io
cd "$BENCH_REPO"
command -v fio >/dev/null || lab_log "no fio on the host (apt-get install fio): the native target is skipped"
HOST=$BENCH_WORK/host
mkdir -p "$HOST"
chmod 777 "$HOST"
RAW=$BENCH_WORK/raw.jsonl
: >"$RAW"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HOST_FS=$(df -PT "$HOST" | awk 'NR == 2 {print $2}')

wanted() { [[ " $TARGETS " == *" $1 "* ]]; }
# only the daemons of the targets asked for: each idle daemon still costs a vhost-user device
vfs_up=()
for t in $VFS_TARGETS; do
  wanted "$t" || continue
  case $t in
    vfs-auto | vfs-auto-ra) bench_virtiofsd "$t" "$HOST" auto ;;
    vfs-always) bench_virtiofsd "$t" "$HOST" always ;;
    vfs-none) bench_virtiofsd "$t" "$HOST" none ;;
    vfs-auto-pool64) bench_virtiofsd "$t" "$HOST" auto 64 ;;
    vfs-auto-q128) bench_virtiofsd "$t" "$HOST" auto "" 128 ;;
  esac
  vfs_up+=("$t")
done
bench_9p p9 "$HOST"
bench_vm_start

bench_ssh 'cat > /root/io-jobs.py' <"$BENCH_DIR/io/io-jobs.py"
bench_ssh 'cat > /root/io-probe.sh' <"$BENCH_DIR/io/io-probe.sh"
bench_ssh sh -eu <<GUEST
for t in ${vfs_up[*]}; do
  mkdir -p /mnt/io/\$t
  mount -t virtiofs \$t /mnt/io/\$t
done
if [ -d /mnt/io/vfs-auto-ra ]; then
  # the share's bdi is MAJ:MIN of its anonymous device; files opened from now on use this readahead
  echo $RA_KB >/sys/class/bdi/\$(mountpoint -d /mnt/io/vfs-auto-ra)/read_ahead_kb
fi
mkdir -p /mnt/io/9p /mnt/io/tmpfs /var/tmp/perf
mount -t 9p -o $P9_OPTS p9 /mnt/io/9p
mount -t tmpfs -o size=$((SIZE * 3 + 64))m tmpfs /mnt/io/tmpfs
GUEST
GUEST_FIO=$(bench_ssh fio --version)
GUEST_KERNEL=$(bench_ssh uname -r)
# which copy routine the guest kernel patches in: erms = rep movsb, rep_good = rep movsq, neither = unrolled movq
GUEST_CPU_FLAGS=$(bench_ssh "grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x 'erms\|fsrm\|rep_good' | sort | tr '\n' ' '")
GUEST_CPU_MODEL=$(bench_ssh "grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-")

guest_dir() { # TARGET -> its directory in the guest
  case $1 in
    guest-disk) echo /var/tmp/perf ;;
    9p) echo /mnt/io/9p ;;
    *) echo "/mnt/io/$1" ;;
  esac
}

describe() { # TARGET -> kind|cache|thread_pool|queue|mount
  case $1 in
    guest-disk) echo "guest disk|-|-|-|ext4 on virtio-blk (qcow2 overlay on the host)" ;;
    tmpfs) echo "guest tmpfs|-|-|-|tmpfs in the guest" ;;
    vfs-auto) echo "virtio-fs|auto|0 (default)|1024|virtiofs" ;;
    vfs-always) echo "virtio-fs|always|0 (default)|1024|virtiofs" ;;
    vfs-none) echo "virtio-fs|none|0 (default)|1024|virtiofs" ;;
    vfs-auto-ra) echo "virtio-fs|auto|0 (default)|1024|virtiofs, bdi read_ahead_kb=$RA_KB" ;;
    vfs-auto-pool64) echo "virtio-fs|auto|64|1024|virtiofs" ;;
    vfs-auto-q128) echo "virtio-fs|auto|0 (default)|128|virtiofs" ;;
    9p) echo "9p|-|-|-|9p $P9_OPTS" ;;
    native) echo "host native|-|-|-|$HOST_FS on the host" ;;
  esac
}

log_size() { if [[ -f $1 ]]; then stat -c %s "$1"; else echo 0; fi; }

request_hist() { # TARGET OP LOG OFFSET -> {"requests":N,"kib":{"SIZE":COUNT,...}} of the requests logged since OFFSET
  local t=$1 op=$2 log=$3 off=$4 pat
  [[ $BENCH_VFSD_DEBUG == 1 && -f $log ]] || { echo '{}'; return; }
  case $t:$op in
    9p:read) pat='v9fs_read tag [0-9]+ id [0-9]+ fid [0-9]+ off [0-9]+ max_count ([0-9]+)' ;;
    9p:write) pat='v9fs_write tag [0-9]+ id [0-9]+ fid [0-9]+ off [0-9]+ count ([0-9]+)' ;;
    *:read) pat='lo_read\(ino=[0-9]+, size=([0-9]+)' ;;
    *:write) pat='lo_write_buf\(ino=[0-9]+, size=([0-9]+)' ;;
  esac
  tail -c +"$((off + 1))" "$log" | grep -oE "$pat" | grep -oE '[0-9]+$' |
    awk '{n++; h[int(($1 + 1023) / 1024)]++} END {
      printf "{\"requests\":%d,\"kib\":{", n; s = ""
      for (k in h) { printf "%s\"%d\":%d", s, k, h[k]; s = "," }
      printf "}}" }'
}

probe() { # TARGET: dd write then read of one SIZE MiB file, with the CPU split and the requests
  local t=$1 dir op log off q0 q1 f0 f1 g vfsd=() info
  dir=$(guest_dir "$t")/probe-$t
  case $t in
    9p) log=$BENCH_WORK/qemu-trace.log ;;
    vfs-*) log=$BENCH_WORK/vfsd-$t.log vfsd=("${BENCH_VFSD_PID[$t]}") ;;
    *) log="" ;;
  esac
  info=$(bench_ssh sh /root/io-probe.sh info "$dir")
  for op in write read; do
    off=$(log_size "$log")
    q0=$(bench_qemu_ticks) f0=$(bench_cpu_ticks "${vfsd[@]}")
    g=$(bench_ssh sh /root/io-probe.sh "$op" "$dir" "$SIZE")
    q1=$(bench_qemu_ticks) f1=$(bench_cpu_ticks "${vfsd[@]}")
    # give a daemon that logs a moment to flush its last lines
    [[ -n $log ]] && sleep 0.5
    printf '{"job":"probe-%s","target":"%s","mib":%d,%s,"qemu_vcpu_s":%s,"qemu_other_s":%s,"virtiofsd_s":%s,%s,"requests":%s}\n' \
      "$op" "$t" "$SIZE" "$g" \
      "$(awk -v a="${q0% *}" -v b="${q1% *}" 'BEGIN {printf "%.2f", (b - a) / 100}')" \
      "$(awk -v a="${q0#* }" -v b="${q1#* }" 'BEGIN {printf "%.2f", (b - a) / 100}')" \
      "$(awk -v a="$f0" -v b="$f1" 'BEGIN {printf "%.2f", (b - a) / 100}')" \
      "$info" "$(request_hist "$t" "$op" "$log" "$off")" >>"$RAW"
  done
  bench_ssh rm -rf "$dir"
}

if [[ $PROBE == 1 ]]; then
  for t in $TARGETS; do
    [[ $t == native ]] && continue
    probe "$t"
    lab_log "probe: $t done: $(grep "\"probe-read\",\"target\":\"$t\"" "$RAW" | grep -oE '"mib_s":[0-9.]+' || true)"
  done
fi

for ((round = 1; round <= ROUNDS; round++)); do
order=$TARGETS
((round % 2 == 1)) || order=$(tr ' ' '\n' <<<"$TARGETS" | tac | tr '\n' ' ')
for t in $order; do
  files=$FILES
  [[ $t == *-pool64 || $t == *-q128 || $t == *-ra ]] && files=$VFILES
  args=(--files "$files" --size-mib "$SIZE" --runtime "$RUNTIME")
  t0=${EPOCHREALTIME/./}
  case $t in
    native)
      command -v fio >/dev/null || continue
      /usr/bin/python3 "$BENCH_DIR/io/io-jobs.py" native "$HOST" "${args[@]}" --host >"$BENCH_WORK/$t.jsonl"
      ;;
    guest-disk) bench_ssh python3 /root/io-jobs.py "$t" /var/tmp/perf "${args[@]}" --drop-caches >"$BENCH_WORK/$t.jsonl" ;;
    9p | tmpfs | vfs-*) bench_ssh python3 /root/io-jobs.py "$t" "$(guest_dir "$t")" "${args[@]}" --drop-caches >"$BENCH_WORK/$t.jsonl" ;;
    *) lab_die "unknown target $t" ;;
  esac
  el=$(((${EPOCHREALTIME/./} - t0) / 100000))
  IFS='|' read -r kind cache pool queue mnt <<<"$(describe "$t")"
  # annotate each job line with the target's configuration
  while read -r line; do
    [[ -n $line ]] || continue
    printf '%s,"round":%d,"kind":"%s","cache":"%s","thread_pool":"%s","queue_size":"%s","fs":"%s"}\n' \
      "${line%\}}" "$round" "$kind" "$cache" "$pool" "$queue" "$mnt" >>"$RAW"
  done <"$BENCH_WORK/$t.jsonl"
  lab_log "round $round/$ROUNDS: $t done in $((el / 10)).$((el % 10)) s: $(grep -c '"job"' "$BENCH_WORK/$t.jsonl") jobs, $(grep -c '"error"' "$BENCH_WORK/$t.jsonl" || true) errors"
done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
meta=$BENCH_WORK/meta.json
printf '{"result":"%s","boot_s":%s,"rounds":%d,"files":%d,"variant_files":%d,"size_mib":%d,"runtime_s":%d,"accel":"%s","load_start":"%s","load_end":"%s","guest_kernel":"%s","guest_fio":"%s","host_fio":"%s","host_fs":"%s","p9_opts":"%s","guest_cpu":"%s","guest_cpu_model":"%s","guest_cpu_flags":"%s","readahead_kb_ra":%d,"virtiofsd":"%s","virtiofsd_debug":%d,"probe":%d}\n' \
  "$RESULT" "$BENCH_BOOT_S" "$ROUNDS" "$FILES" "$VFILES" "$SIZE" "$RUNTIME" "$(bench_accel_label)" "$LOAD_START" "$LOAD_END" \
  "$GUEST_KERNEL" "$GUEST_FIO" "$(fio --version 2>/dev/null || echo none)" "$HOST_FS" "$P9_OPTS" \
  "$([[ $(bench_accel) == kvm ]] && echo host || echo "$BENCH_CPU")" "${GUEST_CPU_MODEL# }" "${GUEST_CPU_FLAGS% }" \
  "$RA_KB" "$BENCH_VIRTIOFSD" "$BENCH_VFSD_DEBUG" "$PROBE" >"$meta"
mkdir -p "$BENCH_DIR/results"
cp "$RAW" "$BENCH_DIR/results/$RESULT.raw.jsonl"
(cd "$BENCH_REPO" && npx --no-install tsx bench/lib/summarize.ts io "$RAW" "$meta")
