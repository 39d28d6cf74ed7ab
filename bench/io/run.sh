#!/usr/bin/env bash
# bench/io: the same fio/metadata jobs (bench/io/io-jobs.py) in ONE guest, in ONE run, on
#   virtio-fs cache=auto, cache=always, cache=none          (one virtiofsd each, own tag)
#   virtio-fs cache=auto with --thread-pool-size=0          (thread pool variant)
#   virtio-fs cache=auto with queue-size=128                (virtqueue size variant; others 1024)
#   9p (virtio-9p, msize=256 KiB)
#   the guest's own disk (virtio-blk, qcow2 overlay)
# and natively on the host directory. Every share serves the same host directory; each target
# works in its own subdirectory of it.
#
# Env: BENCH_IO_FILES (metadata files, default 10000), BENCH_IO_VARIANT_FILES (thread-pool and
#      queue variants, default 2000), BENCH_IO_SIZE_MIB (default 128), BENCH_IO_RUNTIME (s, default 5),
#      BENCH_IO_TARGETS (subset, space-separated), BENCH_IO_ROUNDS (default 2: every target runs once per
#      round, odd rounds in the listed order, even rounds reversed, so slow drift of the shared host hits
#      all targets alike; the report shows the median and the round-to-round spread), BENCH_KEEP=1.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

FILES=${BENCH_IO_FILES:-10000}
VFILES=${BENCH_IO_VARIANT_FILES:-2000}
SIZE=${BENCH_IO_SIZE_MIB:-128}
RUNTIME=${BENCH_IO_RUNTIME:-5}
ALL_TARGETS="guest-disk vfs-auto vfs-always vfs-none 9p vfs-auto-pool0 vfs-auto-q128 native"
TARGETS=${BENCH_IO_TARGETS:-$ALL_TARGETS}
ROUNDS=${BENCH_IO_ROUNDS:-2}
P9_OPTS=trans=virtio,version=9p2000.L,msize=262144

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

bench_virtiofsd vfs-auto "$HOST" auto
bench_virtiofsd vfs-always "$HOST" always
bench_virtiofsd vfs-none "$HOST" none
bench_virtiofsd vfs-auto-pool0 "$HOST" auto 0
bench_virtiofsd vfs-auto-q128 "$HOST" auto "" 128
bench_9p p9 "$HOST"
bench_vm_start

bench_ssh 'cat > /root/io-jobs.py' <"$BENCH_DIR/io/io-jobs.py"
bench_ssh sh -eu <<GUEST
for t in vfs-auto vfs-always vfs-none vfs-auto-pool0 vfs-auto-q128; do
  mkdir -p /mnt/io/\$t
  mount -t virtiofs \$t /mnt/io/\$t
done
mkdir -p /mnt/io/9p /var/tmp/perf
mount -t 9p -o $P9_OPTS p9 /mnt/io/9p
GUEST
GUEST_FIO=$(bench_ssh fio --version)
GUEST_KERNEL=$(bench_ssh uname -r)

describe() { # TARGET -> kind|cache|thread_pool|queue|mount
  case $1 in
    guest-disk) echo "guest disk|-|-|-|ext4 on virtio-blk (qcow2 overlay on the host)" ;;
    vfs-auto) echo "virtio-fs|auto|64 (default)|1024|virtiofs" ;;
    vfs-always) echo "virtio-fs|always|64 (default)|1024|virtiofs" ;;
    vfs-none) echo "virtio-fs|none|64 (default)|1024|virtiofs" ;;
    vfs-auto-pool0) echo "virtio-fs|auto|0 (no pool)|1024|virtiofs" ;;
    vfs-auto-q128) echo "virtio-fs|auto|64 (default)|128|virtiofs" ;;
    9p) echo "9p|-|-|-|9p $P9_OPTS" ;;
    native) echo "host native|-|-|-|$HOST_FS on the host" ;;
  esac
}

for ((round = 1; round <= ROUNDS; round++)); do
order=$TARGETS
((round % 2 == 1)) || order=$(tr ' ' '\n' <<<"$TARGETS" | tac | tr '\n' ' ')
for t in $order; do
  files=$FILES
  [[ $t == *-pool0 || $t == *-q128 ]] && files=$VFILES
  args=(--files "$files" --size-mib "$SIZE" --runtime "$RUNTIME")
  t0=${EPOCHREALTIME/./}
  case $t in
    native)
      command -v fio >/dev/null || continue
      /usr/bin/python3 "$BENCH_DIR/io/io-jobs.py" native "$HOST" "${args[@]}" --host >"$BENCH_WORK/$t.jsonl"
      ;;
    guest-disk) bench_ssh python3 /root/io-jobs.py "$t" /var/tmp/perf "${args[@]}" --drop-caches >"$BENCH_WORK/$t.jsonl" ;;
    9p) bench_ssh python3 /root/io-jobs.py "$t" /mnt/io/9p "${args[@]}" --drop-caches >"$BENCH_WORK/$t.jsonl" ;;
    vfs-*) bench_ssh python3 /root/io-jobs.py "$t" "/mnt/io/$t" "${args[@]}" --drop-caches >"$BENCH_WORK/$t.jsonl" ;;
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
printf '{"boot_s":%s,"rounds":%d,"files":%d,"variant_files":%d,"size_mib":%d,"runtime_s":%d,"accel":"%s","load_start":"%s","load_end":"%s","guest_kernel":"%s","guest_fio":"%s","host_fio":"%s","host_fs":"%s","p9_opts":"%s"}\n' \
  "$BENCH_BOOT_S" "$ROUNDS" "$FILES" "$VFILES" "$SIZE" "$RUNTIME" "$(bench_accel_label)" "$LOAD_START" "$LOAD_END" \
  "$GUEST_KERNEL" "$GUEST_FIO" "$(fio --version 2>/dev/null || echo none)" "$HOST_FS" "$P9_OPTS" >"$meta"
mkdir -p "$BENCH_DIR/results"
cp "$RAW" "$BENCH_DIR/results/io.raw.jsonl"
(cd "$BENCH_REPO" && npx --no-install tsx bench/lib/summarize.ts io "$RAW" "$meta")
