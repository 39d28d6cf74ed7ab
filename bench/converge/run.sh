#!/usr/bin/env bash
# bench/converge: wall time and module executions of the generated virtio_fs_mount role against the
# seed baseline role, on ONE guest, in ONE run, alternating, for N = 1, 5, 20 shares; first converge
# (from a clean guest: shares unmounted, fstab lines, mount points and modules-load file removed,
# virtiofs module unloaded) and re-converge (same play again, nothing to do).
#
# The guest is offered 20 real virtio-fs shares: 20 C virtiofsd processes (cache=auto), each serving
# its own host directory, as 20 vhost-user-fs-pci devices with tags bench-s01..bench-s20. A run with
# N shares uses the first N tags.
#
# Env: BENCH_REPS (default 2: each (N, role) gets BENCH_REPS first converges and re-converges),
#      BENCH_SIZES (default "1 5 20"), BENCH_PIPELINING (default true, as the Molecule scenarios),
#      BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

REPS=${BENCH_REPS:-2}
SIZES=${BENCH_SIZES:-"1 5 20"}
PIPELINING=${BENCH_PIPELINING:-true}
MAX_SHARES=20
for n in $SIZES; do ((n <= MAX_SHARES)) || lab_die "BENCH_SIZES: at most $MAX_SHARES shares"; done

bench_init converge
cd "$BENCH_REPO"
bash scripts/setup-venv.sh >&2
export PATH=$BENCH_REPO/.venv/bin:$PATH
command -v ansible-playbook >/dev/null || lab_die "ansible-playbook not in .venv"

RAW=$BENCH_WORK/raw.jsonl
: >"$RAW"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

for ((i = 1; i <= MAX_SHARES; i++)); do
  t=$(printf 's%02d' "$i")
  mkdir -p "$BENCH_WORK/shares/$t"
  echo "host side of share $t" >"$BENCH_WORK/shares/$t/from-host.txt"
  bench_virtiofsd "bench-$t" "$BENCH_WORK/shares/$t" auto
done
bench_vm_start
BOOT_S=$BENCH_BOOT_S

# ---------------------------------------------------------------- ansible environment
export ANSIBLE_COLLECTIONS_PATH=$BENCH_REPO/collection
export ANSIBLE_ROLES_PATH=$BENCH_DIR/baselines
export ANSIBLE_CALLBACK_PLUGINS=$BENCH_DIR/converge/callback_plugins
export ANSIBLE_CALLBACKS_ENABLED=bench_count
export ANSIBLE_PIPELINING=$PIPELINING
export ANSIBLE_HOST_KEY_CHECKING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_LOCAL_TEMP=$BENCH_WORK/ansible-local
export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=600 -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"
export ANSIBLE_SSH_CONTROL_PATH="$BENCH_WORK/cp-%%r"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
unset ANSIBLE_CONFIG
ANSIBLE_VERSION=$(ansible-playbook --version | head -n1)

# The admin user (as the seed's inventory) with become; one control master per user, warmed by the
# reset step so that every timed run starts with an open SSH connection.
ADMIN_CTL=$BENCH_WORK/cp-admin
admin_ssh() {
  ssh -i "$BENCH_IMAGE/id_ed25519" -p "$BENCH_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath="$ADMIN_CTL" \
    -o ControlPersist=600 admin@127.0.0.1 "$@"
}

write_inventory() { # N FILE
  local n=$1 f=$2 i t
  {
    echo "all:"
    echo "  hosts:"
    echo "    guest:"
    echo "      ansible_host: 127.0.0.1"
    echo "      ansible_port: $BENCH_PORT"
    echo "      ansible_user: admin"
    echo "      ansible_ssh_private_key_file: $BENCH_IMAGE/id_ed25519"
    echo "      ansible_python_interpreter: /usr/bin/python3"
    echo "      virtio_fs_mounts:"
    for ((i = 1; i <= n; i++)); do
      t=$(printf 's%02d' "$i")
      echo "        - tag: bench-$t"
      echo "          host_path: $BENCH_WORK/shares/$t"
      echo "          mount_point: /mnt/bench/$t"
      echo "          owner: admin"
      echo "          group: admin"
      echo "          mode: \"0755\""
    done
  } >"$f"
}

reset_guest() { # scripts go over stdin: ssh would re-split a quoted argument
  admin_ssh sudo sh -eu <<'RESET'
findmnt -rn -t virtiofs -o TARGET | sort -r | while read -r m; do umount "$m"; done
sed -i '/[[:space:]]virtiofs[[:space:]]/d' /etc/fstab
rm -f /etc/fstab.*~ /etc/modules-load.d/virtiofs.conf
rm -rf /mnt/bench
modprobe -r virtiofs 2>/dev/null || true
systemctl daemon-reload
sync
RESET
}

guest_state() { # prints "mounts fstab_lines"
  admin_ssh sh <<'STATE'
echo "$(findmnt -rn -t virtiofs | wc -l) $(grep -c '[[:space:]]virtiofs[[:space:]]' /etc/fstab || true)"
STATE
}

RUN_IDX=0
# run_role ROLE N PHASE REP: one timed ansible-playbook run; appends one JSON line to $RAW
run_role() {
  local role=$1 n=$2 phase=$3 rep=$4 inv=$BENCH_WORK/inventory-$2.yml t0 t1 rc=0 wall log counts
  RUN_IDX=$((RUN_IDX + 1))
  log=$BENCH_WORK/run-$RUN_IDX-$role-$n-$phase.log
  counts=$BENCH_WORK/run-$RUN_IDX.counts.json
  local play=ai_how.virtio_fs.virtio_fs_runtime_config
  [[ $role == baseline ]] && play=$BENCH_DIR/converge/baseline.yml
  t0=${EPOCHREALTIME/./}
  BENCH_COUNT_FILE=$counts ansible-playbook -vvv -i "$inv" "$play" >"$log" 2>&1 || rc=$?
  t1=${EPOCHREALTIME/./}
  wall=$(((t1 - t0) / 1000))
  local execs puts state mounts fstab
  execs=$(grep -c 'SSH: EXEC ssh ' "$log" || true)
  puts=$(grep -c -E 'SSH: EXEC (sftp|scp) ' "$log" || true)
  state=$(guest_state)
  mounts=${state% *}
  fstab=${state#* }
  [[ -s $counts ]] || echo '{}' >"$counts"
  printf '{"idx":%d,"role":"%s","n":%d,"phase":"%s","rep":%d,"rc":%d,"wall_ms":%d,"ssh_commands":%d,"ssh_transfers":%d,"mounts_after":%d,"fstab_lines_after":%d,"counts":%s}\n' \
    "$RUN_IDX" "$role" "$n" "$phase" "$rep" "$rc" "$wall" "$execs" "$puts" "$mounts" "$fstab" "$(cat "$counts")" >>"$RAW"
  lab_log "$(printf '%-9s N=%-2d %-9s rep %d: %6.1f s, rc %d, %s modules, %s ssh cmds, %s mounts, %s fstab lines' \
    "$role" "$n" "$phase" "$rep" "$(echo "$wall" | awk '{print $1/1000}')" "$rc" \
    "$(sed -n 's/.*"module_executions":\([0-9]*\).*/\1/p' "$counts")" "$execs" "$mounts" "$fstab")"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 "$log" >&2
    lab_die "$role run failed (N=$n, $phase); log above"
  fi
  if ((mounts != n || fstab != n)); then
    tail -n 30 "$log" >&2
    lab_die "$role N=$n $phase: expected $n mounts and fstab lines, found $mounts and $fstab"
  fi
}

for n in $SIZES; do write_inventory "$n" "$BENCH_WORK/inventory-$n.yml"; done
write_inventory 1 "$BENCH_WORK/inventory-1.yml"

reset_guest
# Untimed warm-up of both roles (guest page cache: python, node, modules; controller: imports).
lab_log "warm-up (untimed)"
for role in generated baseline; do
  play=ai_how.virtio_fs.virtio_fs_runtime_config
  [[ $role == baseline ]] && play=$BENCH_DIR/converge/baseline.yml
  ansible-playbook -i "$BENCH_WORK/inventory-1.yml" "$play" >"$BENCH_WORK/warmup-$role.log" 2>&1 || {
    tail -n 40 "$BENCH_WORK/warmup-$role.log" >&2
    lab_die "warm-up of $role failed"
  }
  reset_guest
done

for n in $SIZES; do
  for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2 == 1)); then order=(generated baseline); else order=(baseline generated); fi
    for role in "${order[@]}"; do
      reset_guest
      run_role "$role" "$n" first "$rep"
      admin_ssh true </dev/null # keep the control master warm, as after reset_guest
      run_role "$role" "$n" reconverge "$rep"
    done
  done
done
reset_guest

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
meta=$BENCH_WORK/meta.json
printf '{"boot_s":%s,"reps":%d,"sizes":"%s","pipelining":"%s","ansible":"%s","accel":"%s","load_start":"%s","load_end":"%s","virtiofsd":%d}\n' \
  "$BOOT_S" "$REPS" "$SIZES" "$PIPELINING" "$ANSIBLE_VERSION" "$(bench_accel_label)" "$LOAD_START" "$LOAD_END" \
  "${#BENCH_VFSD_PIDS[@]}" >"$meta"
mkdir -p "$BENCH_DIR/results"
cp "$RAW" "$BENCH_DIR/results/converge.raw.jsonl"
(cd "$BENCH_REPO" && npx --no-install tsx bench/lib/summarize.ts converge "$RAW" "$meta")
