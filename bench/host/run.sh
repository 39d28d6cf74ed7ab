#!/usr/bin/env bash
# bench/host: wall time and module executions of the generated host role (ai_how.virtio_fs.virtio_fs_host,
# through the cluster playbook limited to the hypervisors group, as `vfsgen inventory` writes it) against
# a per-share baseline in the seed's style (bench/host/baseline.yml), for N = 1, 10, 100 libvirt
# domains on this machine's libvirtd (qemu:///system, the lab's), each with BENCH_HOST_SHARES shares
# (default 2: one of its own, one host directory common to all, the HPC case).
#
# The domains are DEFINED, never started: the host role's cost is reading and rewriting definitions.
# Each is rendered by `vfsgen render` from the benchmark's cluster configuration, then stripped of its
# <filesystem> devices (shared memory stays, so the baseline's `virsh attach-device --config` is
# accepted), so every first run adds N × shares devices and creates the host directories; the
# re-apply right after it has nothing to do. Before every first run the domains are undefined and
# defined again and the host directories removed (untimed).
#
# Domain names are vfsbench-<pid>-vNNN; an EXIT/INT/TERM trap undefines every domain of that prefix and
# removes the work dir (host directories included). The host-wide VM lock (/run/lock/vfs-molecule.lock,
# as scripts/test-vm.sh) is held for the whole run, so no Molecule scenario shares the libvirtd with it.
#
# Env: BENCH_REPS (default 2), BENCH_HOST_SIZES (default "1 10 100"), BENCH_HOST_SHARES (default 2),
#      BENCH_PIPELINING (default true), BENCH_KEEP=1 keeps the work dir (the domains are undefined anyway).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=../../scripts/vm-lock.sh
. "$PWD/scripts/vm-lock.sh"
vm_lock_reexec "$PWD/bench/host/run.sh" "$@"
# shellcheck source=../lib/vm.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"
export LAB_STACK=debian12 # the inventory's hypervisor is this machine (connection local)

REPS=${BENCH_REPS:-2}
SIZES=${BENCH_HOST_SIZES:-"1 10 100"}
SHARES=${BENCH_HOST_SHARES:-2}
PIPELINING=${BENCH_PIPELINING:-true}
URI=qemu:///system
((SHARES >= 1 && SHARES <= 8)) || lab_die "BENCH_HOST_SHARES: 1 to 8"
MAX_N=0
for n in $SIZES; do ((n >= 1 && n <= 999)) || lab_die "BENCH_HOST_SIZES: 1 to 999 domains"; ((n > MAX_N)) && MAX_N=$n; done

bench_init host
PREFIX=vfsbench-$$
VFSGEN=(node "$BENCH_REPO/bin/vfsgen.js")

undefine_ours() { # every domain of this run's prefix, running or not (they never should be)
  local names
  names=$(lab_virsh -q -c "$URI" list --all --name 2>/dev/null | grep -E "^${PREFIX}-v[0-9]+$" || true)
  [[ -n $names ]] || return 0
  local cmds=() d
  for d in $names; do
    [[ $(lab_virsh -q -c "$URI" domstate "$d" 2>/dev/null | head -n1) == "shut off" ]] ||
      lab_virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1 || true
    cmds+=("undefine --domain=$d")
  done
  (
    IFS=';'
    lab_virsh -q -c "$URI" "${cmds[*]}" >/dev/null
  ) || lab_log "warning: undefining some of ${PREFIX}-* failed"
}
STARTED_LIBVIRTD=0
host_cleanup() {
  local rc=$?
  set +e # a trap must finish: undefine, stop what was started here, remove the work dir
  undefine_ours
  # a libvirtd started here is stopped again (libvirtd.sh stop leaves it while any domain runs)
  ((STARTED_LIBVIRTD)) && bash "$BENCH_LAB/libvirtd.sh" stop >&2
  bench_cleanup "$rc"
}
trap host_cleanup EXIT

bash scripts/setup-venv.sh >&2
export PATH=$BENCH_REPO/.venv/bin:$PATH
command -v ansible-playbook >/dev/null || lab_die "ansible-playbook not in .venv"
if ! lab_virsh -q -c "$URI" version --daemon >/dev/null 2>&1; then
  STARTED_LIBVIRTD=1
  bash lab/libvirtd.sh start >&2
fi
LIBVIRT_VERSION=$(lab_virsh -c "$URI" version --daemon | sed -n 's/.*daemon: *[^0-9]*\([0-9.]*\).*/\1/p')
ACCEL=$(bash lab/accel.sh 2>/dev/null)
RAW=$BENCH_WORK/raw.jsonl
: >"$RAW"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- configuration, domains, inventory
SHARE_ROOT=$BENCH_WORK/shares
mkdir -p "$BENCH_WORK/xml" "$BENCH_WORK/images"
write_cluster() { # N FILE: N VMs; share 1 the VM's own directory, share 2 the common one, then more own ones
  local n=$1 f=$2 i s vm
  {
    echo "clusters:"
    echo "  $PREFIX:"
    for ((i = 1; i <= n; i++)); do
      vm=$(printf 'v%03d' "$i")
      echo "    $vm:"
      echo "      cpu_cores: 1"
      echo "      memory_gb: 0.5"
      echo "      virtio_fs_mounts:"
      for ((s = 1; s <= SHARES; s++)); do
        if ((s == 2)); then
          echo "        - {tag: common, host_path: $SHARE_ROOT/common, mount_point: /mnt/common}"
        else
          echo "        - {tag: data$s, host_path: $SHARE_ROOT/$vm/data$s, mount_point: /mnt/data$s}"
        fi
      done
    done
  } >"$f"
}

# Renders the MAX_N domains once; a size uses the first N. The <filesystem> devices are stripped:
# the role under test adds them.
write_cluster "$MAX_N" "$BENCH_WORK/cluster-$MAX_N.yml"
"${VFSGEN[@]}" render --domain-type "$ACCEL" --libvirt-version "$LIBVIRT_VERSION" \
  --image-dir "$BENCH_WORK/images" "$BENCH_WORK/cluster-$MAX_N.yml" >"$BENCH_WORK/rendered.xml"
awk -v dir="$BENCH_WORK/xml" '
  /^<!-- rendered from / { if (out) close(out); out = dir "/" sprintf("%03d", ++n) ".xml" }
  /^ *<filesystem / { skip = 1 }
  !skip { print > out }
  /^ *<\/filesystem>/ { skip = 0 }
' "$BENCH_WORK/rendered.xml"
[[ $(find "$BENCH_WORK/xml" -name '*.xml' | wc -l) -eq $MAX_N ]] || lab_die "vfsgen render did not write $MAX_N domains"
grep -q "<access mode='shared'/>" "$BENCH_WORK/xml/001.xml" || lab_die "rendered domain has no shared memory"

for n in $SIZES; do
  write_cluster "$n" "$BENCH_WORK/cluster-$n.yml"
  "${VFSGEN[@]}" inventory "$BENCH_WORK/cluster-$n.yml" >"$BENCH_WORK/inventory-$n.yml"
done
mkdir -p "$BENCH_WORK/host_vars"
# the lab runs as root; the role creates the host directories (as in the cluster scenario)
printf 'virtio_fs_host_create_dirs: true\nvirtio_fs_libvirt_uri: %s\n' "$URI" >"$BENCH_WORK/host_vars/localhost.yml"

reset_domains() { # N: exactly the first N domains, defined without shares; no host directories
  local n=$1 i cmds=()
  undefine_ours
  rm -rf "$SHARE_ROOT"
  for ((i = 1; i <= n; i++)); do cmds+=("define --file=$BENCH_WORK/xml/$(printf '%03d' "$i").xml"); done
  (
    IFS=';'
    lab_virsh -q -c "$URI" "${cmds[*]}" >/dev/null
  ) || lab_die "defining $n domains failed"
}

domains_state() { # N: prints "filesystems shared_memory running host_dirs" over the N domains
  local n=$1 i cmds=() xml running
  for ((i = 1; i <= n; i++)); do cmds+=("dumpxml --inactive --domain=${PREFIX}-$(printf 'v%03d' "$i")"); done
  xml=$(
    IFS=';'
    lab_virsh -q -c "$URI" "${cmds[*]}"
  )
  running=$(lab_virsh -q -c "$URI" list --name | grep -c -E "^${PREFIX}-" || true)
  echo "$(grep -c "<driver type='virtiofs'" <<<"$xml" || true) $(grep -c "<access mode='shared'/>" <<<"$xml" || true)" \
    "$running $(find "$SHARE_ROOT" -mindepth 1 -type d 2>/dev/null | wc -l)"
}

# ---------------------------------------------------------------- ansible environment
export ANSIBLE_COLLECTIONS_PATH=$BENCH_REPO/collection
export ANSIBLE_CALLBACK_PLUGINS=$BENCH_DIR/converge/callback_plugins
export ANSIBLE_CALLBACKS_ENABLED=bench_count
export ANSIBLE_PIPELINING=$PIPELINING
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_LOCAL_TEMP=$BENCH_WORK/ansible-local
export ANSIBLE_REMOTE_TEMP=$BENCH_WORK/ansible-remote
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
unset ANSIBLE_CONFIG
ANSIBLE_VERSION=$(ansible-playbook --version | sed -n 1p) # sed reads all: no EPIPE for ansible

RUN_IDX=0
run_role() { # ROLE N PHASE REP: one timed ansible-playbook run; one JSON line to $RAW
  local role=$1 n=$2 phase=$3 rep=$4 t0 t1 rc=0 wall log counts state play
  RUN_IDX=$((RUN_IDX + 1))
  log=$BENCH_WORK/run-$RUN_IDX-$role-$n-$phase.log
  counts=$BENCH_WORK/run-$RUN_IDX.counts.json
  play=ai_how.virtio_fs.virtio_fs_cluster_config
  [[ $role == baseline ]] && play=$BENCH_DIR/host/baseline.yml
  # beside host_vars/localhost.yml, which ansible-playbook reads from the inventory's directory
  cp "$BENCH_WORK/inventory-$n.yml" "$BENCH_WORK/inventory.yml"
  t0=${EPOCHREALTIME/./}
  BENCH_COUNT_FILE=$counts ansible-playbook -i "$BENCH_WORK/inventory.yml" --limit hypervisors "$play" >"$log" 2>&1 || rc=$?
  t1=${EPOCHREALTIME/./}
  wall=$(((t1 - t0) / 1000))
  state=$(domains_state "$n")
  read -r fsdev shared running dirs <<<"$state"
  [[ -s $counts ]] || echo '{}' >"$counts"
  printf '{"idx":%d,"role":"%s","n":%d,"shares":%d,"phase":"%s","rep":%d,"rc":%d,"wall_ms":%d,"filesystems_after":%d,"shared_memory_after":%d,"running_after":%d,"host_dirs_after":%d,"counts":%s}\n' \
    "$RUN_IDX" "$role" "$n" "$SHARES" "$phase" "$rep" "$rc" "$wall" "$fsdev" "$shared" "$running" "$dirs" "$(cat "$counts")" >>"$RAW"
  lab_log "$(printf '%-9s N=%-3d %-8s rep %d: %6.1f s, rc %d, %s modules, %s changed, %s devices, %s host dirs' \
    "$role" "$n" "$phase" "$rep" "$(awk -v w="$wall" 'BEGIN{print w/1000}')" "$rc" \
    "$(sed -n 's/.*"module_executions":\([0-9]*\).*/\1/p' "$counts")" \
    "$(sed -n 's/.*"changed":\([0-9]*\),"failed".*/\1/p' "$counts")" "$fsdev" "$dirs")"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 "$log" >&2
    lab_die "$role run failed (N=$n, $phase); log above"
  fi
  if ((fsdev != n * SHARES || shared != n || running != 0)); then
    lab_die "$role N=$n $phase: expected $((n * SHARES)) virtio-fs devices on $n shut-off domains, found $fsdev ($shared shared memory, $running running)"
  fi
  # per VM its directory and its own shares' directories below it; plus the common one
  local common=$((SHARES >= 2 ? 1 : 0))
  local want_dirs=$((n + n * (SHARES - common) + common))
  ((dirs == want_dirs)) || lab_die "$role N=$n $phase: expected $want_dirs host directories, found $dirs"
}

# Untimed warm-up of both plays on one domain (controller imports, node's file cache).
lab_log "warm-up (untimed); libvirt $LIBVIRT_VERSION, domain type $ACCEL, $SHARES shares per domain"
write_cluster 1 "$BENCH_WORK/cluster-warmup.yml"
"${VFSGEN[@]}" inventory "$BENCH_WORK/cluster-warmup.yml" >"$BENCH_WORK/inventory-warmup.yml"
for role in generated baseline; do
  reset_domains 1
  cp "$BENCH_WORK/inventory-warmup.yml" "$BENCH_WORK/inventory.yml"
  play=ai_how.virtio_fs.virtio_fs_cluster_config
  [[ $role == baseline ]] && play=$BENCH_DIR/host/baseline.yml
  ansible-playbook -i "$BENCH_WORK/inventory.yml" --limit hypervisors "$play" >"$BENCH_WORK/warmup-$role.log" 2>&1 || {
    tail -n 40 "$BENCH_WORK/warmup-$role.log" >&2
    lab_die "warm-up of $role failed"
  }
done

for n in $SIZES; do
  for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2 == 1)); then order=(generated baseline); else order=(baseline generated); fi
    for role in "${order[@]}"; do
      lab_log "defining $n domains without shares (untimed)"
      reset_domains "$n"
      run_role "$role" "$n" first "$rep"
      run_role "$role" "$n" reapply "$rep"
    done
  done
done
undefine_ours

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
meta=$BENCH_WORK/meta.json
printf '{"reps":%d,"sizes":"%s","shares":%d,"pipelining":"%s","ansible":"%s","accel":"%s","libvirt":"%s","domain_type":"%s","load_start":"%s","load_end":"%s"}\n' \
  "$REPS" "$SIZES" "$SHARES" "$PIPELINING" "$ANSIBLE_VERSION" "$(bench_accel_label)" "$LIBVIRT_VERSION" "$ACCEL" \
  "$LOAD_START" "$LOAD_END" >"$meta"
mkdir -p "$BENCH_DIR/results"
cp "$RAW" "$BENCH_DIR/results/host.raw.jsonl"
(cd "$BENCH_REPO" && npx --no-install tsx bench/lib/summarize-host.ts "$RAW" "$meta")
