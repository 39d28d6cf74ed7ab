#!/usr/bin/env bash
# End-to-end smoke test of the VM lab: image -> libvirtd -> domain with one virtio-fs share
# (tag `smoke`, virtiofsd launched by libvirt) -> ssh -> mount + read + write from the guest ->
# host sees the write -> teardown. Exit 0 only when all of it worked. The domain XML is the
# GENERATED template (generated/templates/controller.xml.j2) rendered as Molecule renders it.
#
# Env: LAB_GUEST_SUITE=trixie boots the Debian 13 guest image (build-image.sh) instead of bookworm.
#      LAB_KEEP=1 keeps the temp dir (overlay, domain XML, serial log) for inspection.
#      LAB_SMOKE_REBOOT=1 also times a guest reboot (systemctl reboot) back to ssh.
#      LAB_SMOKE_SHUTDOWN=1 also checks a graceful ACPI shutdown (virsh shutdown).
#      LAB_TMP: parent of the temp dir (default /tmp; must be traversable by libvirt-qemu).
# --stack debian13 (or LAB_STACK=debian13): the same test on the Debian 13 stack (stack-debian13.sh),
# plus a second share `smoke-ro` with readonly: true (<readonly/>, enforced by virtiofsd) that guest
# root must fail to change, and check-host-untouched.sh around the whole run.
set -euo pipefail
if [[ ${1:-} == --stack ]]; then
  export LAB_STACK=${2:?--stack needs debian12 or debian13}
  shift 2
fi
LAB_TAG=smoke
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_need_root
STACK=$(lab_stack)

NAME=lab-smoke-$$
WORK=""
STARTED_LIBVIRTD=0
DEFINED=0
T_BUILD="" T_LIBVIRTD="" T_BOOT=""

cleanup() {
  local rc=$?
  set +e
  if ((DEFINED)); then
    "$LAB_DIR/domain.sh" down "$NAME"
  fi
  if ((STARTED_LIBVIRTD)); then
    "$LAB_DIR/libvirtd.sh" stop
  fi
  if [[ -n ${SNAPSHOT:-} ]]; then
    if [[ $rc == 0 && $STARTED_LIBVIRTD == 1 ]]; then
      "$LAB_DIR/check-host-untouched.sh" compare "$SNAPSHOT" || rc=1
    fi
    rm -f "$SNAPSHOT"
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${LAB_KEEP:-0} == 1 ]]; then
      lab_log "kept $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  if ((rc == 0)); then
    lab_log "PASS on $STACK (image ${T_BUILD}s, libvirtd ${T_LIBVIRTD}s, boot+ssh ${T_BOOT}s)"
  else
    lab_log "FAIL (exit $rc)"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ds() { echo $((${EPOCHREALTIME/./} / 100000)); } # deciseconds
fmt_ds() { echo "$(($1 / 10)).$(($1 % 10))"; }

"$LAB_DIR/install-deps.sh"
bash "$LAB_REPO/scripts/setup-venv.sh"
lab_need_cmd virsh virt-xml-validate xmllint ssh qemu-img

t=$(now_ds)
IMG=$("$LAB_DIR/build-image.sh" | tail -n1)
T_BUILD=$(fmt_ds $(($(now_ds) - t)))
export LAB_IMAGE_DIR=$IMG
lab_log "image $IMG ($T_BUILD s)"

TYPE=$("$LAB_DIR/accel.sh")

if [[ $STACK == debian13 ]]; then
  t=$(now_ds)
  "$LAB_DIR/stack-debian13.sh" build >/dev/null
  lab_log "debian13 rootfs ready ($(fmt_ds $(($(now_ds) - t))) s)"
  SNAPSHOT=$(mktemp /tmp/lab-host-snapshot.XXXXXX)
  "$LAB_DIR/check-host-untouched.sh" snapshot "$SNAPSHOT"
fi

t=$(now_ds)
"$LAB_DIR/libvirtd.sh" status >/dev/null || STARTED_LIBVIRTD=1
"$LAB_DIR/libvirtd.sh" start
T_LIBVIRTD=$(fmt_ds $(($(now_ds) - t)))
lab_log "libvirtd ready ($T_LIBVIRTD s, started by us: $STARTED_LIBVIRTD)"

WORK=$(mktemp -d "${LAB_TMP:-/tmp}/lab-smoke.XXXXXX")
chmod 755 "$WORK" # QEMU runs as libvirt-qemu and must reach the overlay
SHARE=$WORK/share
mkdir -p "$SHARE"
echo "hello from the host $$" >"$SHARE/hello.txt"
"$LAB_DIR/domain.sh" overlay "$IMG/base.qcow2" "$WORK/vm.qcow2"
PORT=$("$LAB_DIR/domain.sh" free-port)
XML=$WORK/$NAME.xml
VERSION=$(lab_virsh -c qemu:///system version --daemon | sed -n 's/.*daemon: *[^0-9]*\([0-9.]*\).*/\1/p')
[[ -n $VERSION ]] || lab_die "virsh did not report the libvirt daemon version"
RO_SHARE=""
if [[ $STACK == debian13 ]]; then
  RO_SHARE=$WORK/share-ro
  mkdir -p "$RO_SHARE/dir"
  echo "read-only $$" >"$RO_SHARE/ro.txt"
  RO_BEFORE=$(cd "$RO_SHARE" && find . -printf '%p %m %U:%G %s %T@ %C@\n' | sort && find . -type f -exec sha256sum {} + | sort)
fi
MOUNTS=$(python3 -c 'import json, sys
m = [{"tag": "smoke", "host_path": sys.argv[1], "mount_point": "/mnt/smoke"}]
if sys.argv[2]:
    m.append({"tag": "smoke-ro", "host_path": sys.argv[2], "mount_point": "/mnt/smoke-ro", "readonly": True})
print(json.dumps(m))' "$SHARE" "$RO_SHARE")
lab_render_domain "$XML" vm_name="$NAME" vm_domain_type="$TYPE" vm_cpu_cores:=2 vm_memory_mb:=1024 \
  vm_disk_path="$WORK/vm.qcow2" vm_kernel="$IMG/$(cat "$IMG/kernel")" vm_initrd="$IMG/initrd.img" \
  vm_cmdline="$(cat "$IMG/cmdline")" vm_serial_log="$WORK/serial.log" vm_ssh_forward_port:="$PORT" \
  vm_tcg_tb_cache_mb:=128 virtio_fs_libvirt_version="$VERSION" virtio_fs_mounts:="$MOUNTS"
virt-xml-validate "$XML" domain >/dev/null || lab_die "virt-xml-validate rejected $XML"
lab_log "domain XML $XML rendered from the generated template and validated (type $TYPE, libvirt $VERSION, port $PORT)"

t=$(now_ds)
DEFINED=1
"$LAB_DIR/domain.sh" up "$NAME" "$XML" "$PORT"
T_BOOT=$(fmt_ds $(($(now_ds) - t)))
lab_log "guest: $("$LAB_DIR/domain.sh" ssh "$PORT" '. /etc/os-release; echo "$PRETTY_NAME, kernel $(uname -r)"')"

out=$("$LAB_DIR/domain.sh" ssh "$PORT" \
  'modprobe virtiofs && mkdir -p /mnt/smoke && mount -t virtiofs smoke /mnt/smoke && cat /mnt/smoke/hello.txt && touch /mnt/smoke/from-guest')
[[ $out == "hello from the host $$" ]] || lab_die "guest read '$out' from the share, expected the host's hello.txt"
lab_log "guest mounted the share and read hello.txt"
[[ -e $SHARE/from-guest ]] || lab_die "host does not see $SHARE/from-guest"
lab_log "host sees from-guest (owner $(stat -c %U:%G "$SHARE/from-guest"))"

if [[ -n $RO_SHARE ]]; then
  grep -q '<readonly/>' "$XML" || lab_die "the template did not emit <readonly/> for libvirt $VERSION"
  # As guest root, on the share as mounted and after remount rw: every change must fail.
  out=$("$LAB_DIR/domain.sh" ssh "$PORT" '
    mkdir -p /mnt/smoke-ro && mount -t virtiofs smoke-ro /mnt/smoke-ro || exit 9
    mount -o remount,rw /mnt/smoke-ro 2>/dev/null
    cd /mnt/smoke-ro; ok=0
    try() { if "$@" 2>/dev/null; then echo "WROTE: $*"; ok=1; fi; }
    try sh -c "echo x >> ro.txt"; try sh -c "echo x > new.txt"; try truncate -s 0 ro.txt
    try rm -f ro.txt; try mv ro.txt moved.txt; try chmod 777 ro.txt; try chown 1000 ro.txt
    try mkdir d2; try rmdir dir; try ln -s ro.txt link; try touch -d 2001-01-01 ro.txt
    try python3 -c "import os; os.setxattr(\"ro.txt\", \"user.x\", b\"1\")"
    cat ro.txt; exit $ok')
  [[ $out == "read-only $$" ]] || lab_die "read-only share: a change went through or the read failed: $out"
  RO_AFTER=$(cd "$RO_SHARE" && find . -printf '%p %m %U:%G %s %T@ %C@\n' | sort && find . -type f -exec sha256sum {} + | sort)
  [[ $RO_AFTER == "$RO_BEFORE" ]] || lab_die "the host directory of the read-only share changed"
  lab_log "read-only share: every write by guest root failed (after remount rw too), host dir unchanged"
fi

if [[ ${LAB_SMOKE_REBOOT:-0} == 1 ]]; then
  boot_id=$("$LAB_DIR/domain.sh" ssh "$PORT" 'cat /proc/sys/kernel/random/boot_id')
  t=$(now_ds)
  "$LAB_DIR/domain.sh" ssh "$PORT" 'systemctl reboot' 2>/dev/null || true
  while :; do
    sleep 2
    id=$("$LAB_DIR/domain.sh" ssh "$PORT" 'cat /proc/sys/kernel/random/boot_id' 2>/dev/null) || id=""
    [[ -n $id && $id != "$boot_id" ]] && break
    (($(now_ds) - t < ${LAB_BOOT_TIMEOUT:-300} * 10)) || lab_die "no ssh after guest reboot"
  done
  lab_log "guest reboot back to ssh took $(fmt_ds $(($(now_ds) - t))) s"
fi

if [[ ${LAB_SMOKE_SHUTDOWN:-0} == 1 ]]; then
  t=$(now_ds)
  lab_virsh -q -c qemu:///system shutdown "$NAME" >/dev/null
  for ((i = 0; i < 120; i++)); do
    [[ $(lab_virsh -q -c qemu:///system domstate "$NAME" 2>/dev/null) == "shut off" ]] && break
    sleep 1
  done
  [[ $(lab_virsh -q -c qemu:///system domstate "$NAME" 2>/dev/null) == "shut off" ]] ||
    lab_die "guest did not power off within 120 s of virsh shutdown"
  lab_log "ACPI shutdown took $(fmt_ds $(($(now_ds) - t))) s"
fi
