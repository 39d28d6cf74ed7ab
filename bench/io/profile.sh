#!/usr/bin/env bash
# Where the emulated guest's kernel spends a buffered sequential read (issue 15): one guest per CPU
# model in BENCH_PROFILE_CPUS, and per target a loop of (drop the guest's caches, dd bs=1M of one
# file) while bench/io/guest-profile.py samples every vCPU's RIP over QMP and names it with the
# guest's /proc/kallsyms. Nothing is installed in the guest; TCG emulates no PMU for perf.
#   sudo bash bench/io/profile.sh
# Env: BENCH_PROFILE_CPUS (default "max max,erms=off"), BENCH_PROFILE_TARGETS (default
#      "tmpfs vfs-auto vfs-none 9p"), BENCH_PROFILE_SECONDS (10), BENCH_PROFILE_HZ (40),
#      BENCH_IO_SIZE_MIB (64). Writes bench/results/io_profile.json; takes the host-wide VM lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=../../scripts/vm-lock.sh
. "$PWD/scripts/vm-lock.sh"
vm_lock_reexec "$PWD/bench/io/profile.sh" "$@"
CPUS=${BENCH_PROFILE_CPUS:-max max,erms=off}
TARGETS=${BENCH_PROFILE_TARGETS:-tmpfs vfs-auto vfs-none 9p}
SECONDS_PER=${BENCH_PROFILE_SECONDS:-10}
HZ=${BENCH_PROFILE_HZ:-40}
SIZE=${BENCH_IO_SIZE_MIB:-64}
OUT=$PWD/bench/results/io_profile.json
results=()
for cpu in $CPUS; do
  # one guest per CPU model, each in its own process: lib/vm.sh keeps one guest per shell
  json=$(mktemp)
  BENCH_CPU=$cpu bash -euo pipefail -c '
    . bench/lib/vm.sh
    bench_init io_profile
    HOST=$BENCH_WORK/host
    mkdir -p "$HOST" && chmod 777 "$HOST"
    bench_virtiofsd vfs-auto "$HOST" auto
    bench_virtiofsd vfs-none "$HOST" none
    bench_9p p9 "$HOST"
    bench_vm_start
    bench_ssh sh -eu <<GUEST
for t in vfs-auto vfs-none; do mkdir -p /mnt/io/\$t; mount -t virtiofs \$t /mnt/io/\$t; done
mkdir -p /mnt/io/9p /mnt/io/tmpfs
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 p9 /mnt/io/9p
mount -t tmpfs -o size=$(('"$SIZE"' + 64))m tmpfs /mnt/io/tmpfs
GUEST
    bench_ssh cat /proc/kallsyms >"$BENCH_WORK/kallsyms"
    flags=$(bench_ssh "grep -m1 ^flags /proc/cpuinfo | tr \" \" \"\\n\" | grep -x \"erms\\|rep_good\" | sort | tr \"\\n\" \" \"")
    echo "{\"cpu\": \"'"$cpu"'\", \"copy_flags\": \"${flags% }\", \"kernel\": \"$(bench_ssh uname -r)\", \"targets\": {" >"$BENCH_WORK/out.json"
    sep=""
    for t in '"$TARGETS"'; do
      dir=/mnt/io/$t
      [[ $t == 9p ]] && dir=/mnt/io/9p
      bench_ssh "dd if=/dev/zero of=$dir/profile bs=1M count='"$SIZE"' conv=fsync status=none"
      # the read loop outlasts the sampling window on both sides
      bench_ssh "end=\$((\$(date +%s) + '"$SECONDS_PER"' + 4)); n=0
        while [ \$(date +%s) -lt \$end ]; do echo 3 >/proc/sys/vm/drop_caches; dd if=$dir/profile of=/dev/null bs=1M status=none; n=\$((n + 1)); done
        echo \$n" >"$BENCH_WORK/reads-$t" &
      loop=$!
      sleep 2
      lab_log "sampling $t ('"$cpu"')"
      python3 bench/io/guest-profile.py "$BENCH_WORK/qmp.sock" "$BENCH_WORK/kallsyms" '"$SECONDS_PER"' '"$HZ"' "$BENCH_WORK/profile-$t.json" >&2
      wait "$loop"
      printf "%s\"%s\": {\"reads_of_%s_mib\": %s, \"profile\": %s}" "$sep" "$t" '"$SIZE"' "$(cat "$BENCH_WORK/reads-$t")" "$(cat "$BENCH_WORK/profile-$t.json")" >>"$BENCH_WORK/out.json"
      sep=", "
    done
    echo "}}" >>"$BENCH_WORK/out.json"
    cat "$BENCH_WORK/out.json"
  ' >"$json"
  results+=("$json")
done
node -e '
  const fs = require("fs");
  const [out, size, loop, seconds, hz, ...files] = process.argv.slice(1);
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const params = { size_mib: +size, loop_seconds: +loop, sample_seconds: +seconds, hz: +hz };
  fs.writeFileSync(out, JSON.stringify({ ...params, runs }, null, 1) + "\n");
' "$OUT" "$SIZE" "$((SECONDS_PER + 4))" "$SECONDS_PER" "$HZ" "${results[@]}"
rm -f "${results[@]}"
npx --no-install tsx bench/lib/summarize-profile.ts "$OUT"
echo "[bench] wrote $OUT and the io_profile section of bench/results/REPORT.md"
