#!/bin/sh
# The guest half of bench/io's probe pass (run over ssh as root). Prints JSON members, no braces:
#   io-probe.sh info DIR        the filesystem holding DIR: bdi, its read_ahead_kb, type and options
#   io-probe.sh write DIR MIB   dd bs=1M of MIB MiB into DIR/probe.dat, fsync at the end
#   io-probe.sh read DIR MIB    sync, drop the guest caches, dd bs=1M of DIR/probe.dat to /dev/null
# write/read report the dd wall time, the guest CPU time (all vCPUs, /proc/stat, USER_HZ 100) and the
# virtio-blk requests of the guest disk vda (its /sys/block/vda/stat) over the dd alone.
set -eu
op=$1 dir=$2
case $op in
  info)
    mkdir -p "$dir"
    dev=$(findmnt -no MAJ:MIN -T "$dir" | tr -d " ")
    ra=-1
    if [ -r "/sys/class/bdi/$dev/read_ahead_kb" ]; then
      ra=$(cat "/sys/class/bdi/$dev/read_ahead_kb")
    elif [ -e "/sys/dev/block/$dev/partition" ]; then
      # a partition has no bdi of its own: the disk's queue holds the readahead
      disk=$(basename "$(dirname "$(readlink -f "/sys/dev/block/$dev")")")
      ra=$(cat "/sys/block/$disk/queue/read_ahead_kb")
    fi
    printf '"bdi":"%s","read_ahead_kb":%s,"mount":"%s"' "$dev" "$ra" "$(findmnt -no FSTYPE,OPTIONS -T "$dir" | tr -s ' ')"
    exit 0
    ;;
  write) rm -f "$dir/probe.dat" ;;
  read)
    sync
    echo 3 >/proc/sys/vm/drop_caches
    ;;
  *)
    echo "usage: io-probe.sh info|write|read DIR [MIB]" >&2
    exit 2
    ;;
esac
mib=$3
s0=$(head -n1 /proc/stat)
b0=$(cat /sys/block/vda/stat)
t0=$(date +%s%N)
if [ "$op" = write ]; then
  dd if=/dev/zero of="$dir/probe.dat" bs=1M count="$mib" conv=fsync status=none
else
  dd if="$dir/probe.dat" of=/dev/null bs=1M status=none
fi
t1=$(date +%s%N)
s1=$(head -n1 /proc/stat)
b1=$(cat /sys/block/vda/stat)
echo "$t0 $t1 $mib $s0 $s1 $b0 $b1" | awk '{
  # fields: t0 t1 mib | "cpu" u n s i w irq sirq steal guest gnice (11, x2) | vda stat (17 or 11 fields, x2)
  wall = ($2 - $1) / 1e9
  a = 4; b = 15
  user = ($(b+1) + $(b+2) - $(a+1) - $(a+2)) / 100
  sys = ($(b+3) + $(b+6) + $(b+7) - $(a+3) - $(a+6) - $(a+7)) / 100
  idle = ($(b+4) + $(b+5) - $(a+4) - $(a+5)) / 100
  n = (NF - 25) / 2; c = 26; d = 26 + n
  printf "\"wall_s\":%.3f,\"mib_s\":%.1f,\"guest_user_s\":%.2f,\"guest_sys_s\":%.2f,\"guest_idle_s\":%.2f,", wall, $3 / wall, user, sys, idle
  printf "\"vda_read_ios\":%d,\"vda_read_kib\":%d,\"vda_write_ios\":%d,\"vda_write_kib\":%d", $(d) - $(c), ($(d+2) - $(c+2)) / 2, $(d+4) - $(c+4), ($(d+6) - $(c+6)) / 2
}'
