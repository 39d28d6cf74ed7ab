#!/usr/bin/env bash
# Builds (or reuses from cache) the Debian bookworm guest for the VM lab.
#
#   build-image.sh          build if needed; last stdout line = cache dir
#   build-image.sh --dir    only print the cache dir this recipe maps to (no build)
#   build-image.sh --prune  delete cached images of other recipes
#
# Cache dir: ${LAB_CACHE:-<repo>/.cache/lab}/<hash>, hash = first 16 hex digits of the sha256 of
# the recipe (this script's content + package list + guest kernel version + mirrors + image size).
# Contents: base.qcow2, vmlinux|vmlinuz (named in file `kernel`), initrd.img, cmdline,
# id_ed25519{,.pub}, recipe, .complete.
#
# Env: LAB_CACHE, LAB_KERNEL_VERSION (default: newest /boot/vmlinuz-* with /lib/modules),
#      LAB_MIRROR, LAB_SECURITY_MIRROR, LAB_IMAGE_SIZE (sparse ext4 size, default 8G).
set -euo pipefail
LAB_TAG=build-image
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(systemd-sysv udev dbus libpam-systemd openssh-server openssh-sftp-server python3 python3-apt nodejs
  fuse3 util-linux kmod iproute2 procps fio sudo acl netbase e2fsprogs)
# LAB_GUEST_SUITE=trixie: a Debian 13 guest whose kernel (6.12) and modules come from the rootfs's own
# linux-image-amd64, not from the host's /boot. Default: the guest of the stack's own release
# (LAB_STACK debian12 -> bookworm, debian13 -> trixie), so each stack boots its distribution's guest.
case ${LAB_STACK:-debian12} in
  debian13) SUITE=${LAB_GUEST_SUITE:-trixie} ;;
  *) SUITE=${LAB_GUEST_SUITE:-bookworm} ;;
esac
case $SUITE in
  bookworm) ;;
  trixie) PACKAGES+=(linux-image-amd64) ;;
  *) lab_die "LAB_GUEST_SUITE='$SUITE': expected bookworm or trixie" ;;
esac
MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
IMAGE_SIZE=${LAB_IMAGE_SIZE:-8G}
# tsc=reliable: under TCG the kernel's TSC sync check fails ("TSCs unsynchronized") and it falls back
# to the HPET, whose every read is an emulated MMIO access; QEMU's TCG TSC derives from one host
# clock for all vCPUs, so trusting it is safe and makes the guest noticeably faster.
CMDLINE="console=ttyS0,115200 root=/dev/vda rootfstype=ext4 rw quiet loglevel=3 mitigations=off no_timer_check tsc=reliable"
# Host module subtrees copied into the guest (plus the dependency closure of everything copied).
MODULE_TREES=(fs crypto lib arch net block virt mm drivers/virtio drivers/block drivers/char
  drivers/input drivers/acpi drivers/scsi drivers/hid drivers/dax drivers/nvdimm)
# initramfs: just enough to mount an ext4 root from a virtio disk (deps resolved via modprobe).
INITRD_MODULES=(virtio_pci virtio_blk crc32c_generic crc32c_intel ext4)

pick_kernel() {
  if [[ -n ${LAB_KERNEL_VERSION:-} ]]; then
    echo "$LAB_KERNEL_VERSION"
    return
  fi
  local v
  for v in $(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -rV); do
    if [[ -f /lib/modules/$v/modules.dep ]]; then
      echo "$v"
      return
    fi
  done
  return 1
}

KROOT="" # where the guest kernel comes from: the host (bookworm) or the guest rootfs (trixie)
if [[ $SUITE == bookworm ]]; then
  KVER=$(pick_kernel) || lab_die "no /boot/vmlinuz-* with matching /lib/modules (install linux-image-amd64)"
  [[ -r /boot/vmlinuz-$KVER && -d /lib/modules/$KVER ]] || lab_die "kernel $KVER not found in /boot and /lib/modules"
else
  KVER=rootfs:linux-image-amd64 # the real version is known after mmdebstrap
fi

recipe() {
  printf 'packages=%s\nkernel=%s\nsuite=%s\nmirror=%s\nsecurity=%s\nsize=%s\n' \
    "${PACKAGES[*]}" "$KVER" "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$IMAGE_SIZE"
  echo "--- build-image.sh"
  cat "${BASH_SOURCE[0]}"
  declare -f lab_mmdebstrap
}
HASH=$(recipe | sha256sum | cut -c1-16)
CACHE_ROOT=${LAB_CACHE:-$LAB_REPO/.cache/lab}
OUT=$CACHE_ROOT/$HASH

case ${1:-} in
  --dir)
    echo "$OUT"
    exit 0
    ;;
  --prune) # remove cached images of other recipes (make sure no VM still uses them)
    for d in "$CACHE_ROOT"/*/; do
      d=${d%/}
      [[ -d $d && $d != "$OUT" && -f $d/recipe ]] || continue
      rm -rf "$d" "$CACHE_ROOT/.$(basename "$d").lock"
      lab_log "pruned $d"
    done
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: $0 [--dir|--prune]" >&2
    exit 2
    ;;
esac

if [[ -f $OUT/.complete ]]; then
  lab_log "cached image $OUT (kernel $KVER)"
  echo "$OUT"
  exit 0
fi

lab_need_root
lab_need_cmd mmdebstrap eatmydata mkfs.ext4 qemu-img busybox modprobe depmod ssh-keygen flock sha256sum
mkdir -p "$CACHE_ROOT"
# libvirt runs QEMU as libvirt-qemu: every directory on the way to the image must be searchable.
chmod go+rx "$CACHE_ROOT"
[[ $(basename "$(dirname "$CACHE_ROOT")") == .cache ]] && chmod go+rx "$(dirname "$CACHE_ROOT")"

exec 9>"$CACHE_ROOT/.$HASH.lock"
if ! flock -n 9; then
  lab_log "another build of $HASH is running; waiting for its lock"
  flock 9
fi
if [[ -f $OUT/.complete ]]; then
  lab_log "cached image $OUT (built by a concurrent caller)"
  echo "$OUT"
  exit 0
fi

lab_log "building $HASH (kernel $KVER) in $CACHE_ROOT"
WORK=$(mktemp -d "$CACHE_ROOT/.build-$HASH.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
R=$WORK/rootfs
DST=$WORK/out
mkdir -p "$DST"
chmod 755 "$WORK" "$DST"

# ---------------------------------------------------------------- SSH key
ssh-keygen -q -t ed25519 -N '' -C "vfs-lab-$HASH" -f "$DST/id_ed25519"

# ---------------------------------------------------------------- rootfs
lab_mmdebstrap minbase "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$R" "$WORK/mmdebstrap.log" "${PACKAGES[@]}" || lab_die "mmdebstrap failed"
chmod 755 "$R"
lab_log "mmdebstrap done ($(du -sm "$R" | cut -f1) MB)"
if [[ $SUITE != bookworm ]]; then
  KROOT=$R
  KVER=$(find "$R/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -rV | head -n1)
  [[ -n $KVER && -f $R/lib/modules/$KVER/modules.dep ]] || lab_die "no kernel with modules in the $SUITE rootfs"
  rm -f "$R"/boot/initrd.img-* # the lab's own initramfs boots it
  lab_log "guest kernel from the rootfs: $KVER"
fi

# ---------------------------------------------------------------- configure
echo vfs-guest >"$R/etc/hostname"
cat >"$R/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
127.0.1.1	vfs-guest
::1		localhost ip6-localhost ip6-loopback
HOSTS
printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/vda / ext4 rw,relatime,errors=remount-ro 0 0\n' >"$R/etc/fstab"
echo 'LANG=C.UTF-8' >"$R/etc/default/locale"
rm -f "$R/etc/resolv.conf"
: >"$R/etc/resolv.conf"
# Empty machine-id: each VM gets its own at boot, and it is not a "first boot" (no preset-all).
rm -f "$R/var/lib/dbus/machine-id"
: >"$R/etc/machine-id"

mkdir -p "$R/etc/systemd/network"
cat >"$R/etc/systemd/network/10-lab.network" <<'NET'
[Match]
Name=en* eth*

[Link]
RequiredForOnline=no

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
mkdir -p "$R/etc/systemd/logind.conf.d" "$R/etc/systemd/system.conf.d"
printf '[Login]\nNAutoVTs=0\nReserveVT=0\n' >"$R/etc/systemd/logind.conf.d/lab.conf"
# Faster reboot/poweroff when a service hangs on stop.
printf '[Manager]\nDefaultTimeoutStopSec=15s\n' >"$R/etc/systemd/system.conf.d/lab.conf"

systemctl --root="$R" --quiet enable systemd-networkd.service
systemctl --root="$R" --quiet mask systemd-networkd-wait-online.service
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
  dpkg-db-backup.timer logrotate.timer getty@.service; do
  if [[ -e $R/usr/lib/systemd/system/$u || -e $R/lib/systemd/system/$u ]]; then
    systemctl --root="$R" --quiet disable "$u"
  fi
done
rm -f "$R"/etc/systemd/system/getty.target.wants/getty@tty*.service
# Boot speed under TCG: nothing here needs these (static instances of modprobe@, binfmt).
for u in modprobe@drm.service modprobe@efi_pstore.service modprobe@dm_mod.service \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount; do
  systemctl --root="$R" --quiet mask "$u"
done
# Modules udev/systemd would autoload for q35 + `-cpu max` that a test guest never uses; loading
# them under TCG costs seconds (kvm_amd is pulled in because -cpu max advertises SVM,
# cfg80211 by systemd-networkd's nl80211 query, ip_tables by PID 1).
cat >"$R/etc/modprobe.d/lab-blacklist.conf" <<'BL'
# VM lab: not needed in the test guest, slow to load under TCG
blacklist kvm
blacklist kvm_amd
blacklist kvm_intel
blacklist ccp
blacklist irqbypass
blacklist cfg80211
blacklist rfkill
blacklist psmouse
blacklist pcspkr
blacklist serio_raw
blacklist i2c_i801
blacklist i2c_smbus
blacklist lpc_ich
blacklist iTCO_wdt
blacklist iTCO_vendor_support
blacklist joydev
blacklist intel_rapl_msr
blacklist intel_rapl_common
blacklist ip_tables
blacklist x_tables
BL

cat >"$R/etc/ssh/sshd_config.d/lab.conf" <<'SSHD'
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
SSHD
install -d -m 700 "$R/root/.ssh"
install -m 600 "$DST/id_ed25519.pub" "$R/root/.ssh/authorized_keys"

chroot "$R" groupadd -g 1000 admin
chroot "$R" useradd -m -u 1000 -g admin -G sudo -s /bin/bash admin
chroot "$R" usermod -p '*' admin
install -d -m 700 -o 1000 -g 1000 "$R/home/admin/.ssh"
install -m 600 -o 1000 -g 1000 "$DST/id_ed25519.pub" "$R/home/admin/.ssh/authorized_keys"
echo 'admin ALL=(ALL:ALL) NOPASSWD: ALL' >"$R/etc/sudoers.d/admin"
chmod 440 "$R/etc/sudoers.d/admin"
chroot "$R" visudo -cqf /etc/sudoers.d/admin
lab_log "rootfs configured"

# ---------------------------------------------------------------- kernel modules
if [[ -z $KROOT ]]; then
SRC=/lib/modules/$KVER
MDST=$R/usr/lib/modules/$KVER
mkdir -p "$MDST/kernel"
for t in "${MODULE_TREES[@]}"; do
  if [[ -d $SRC/kernel/$t ]]; then
    mkdir -p "$MDST/kernel/$(dirname "$t")"
    cp -a "$SRC/kernel/$t" "$MDST/kernel/$t"
  fi
done
# top-level network drivers only (virtio_net, net_failover, tun, veth, dummy, ...), no NIC trees
mkdir -p "$MDST/kernel/drivers/net"
cp -a "$SRC"/kernel/drivers/net/*.ko* "$MDST/kernel/drivers/net/"
# dependency closure (modules.dep lists full transitive deps per module)
while read -r dep; do
  if [[ ! -e $MDST/$dep ]]; then
    mkdir -p "$MDST/$(dirname "$dep")"
    cp -a "$SRC/$dep" "$MDST/$dep"
  fi
done < <(awk -v d="$MDST" '{ m=$1; sub(/:$/, "", m); if (system("test -e " d "/" m) == 0) for (i = 2; i <= NF; i++) print $i }' "$SRC/modules.dep" | sort -u)
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [[ -e $SRC/$f ]] && cp -a "$SRC/$f" "$MDST/"
done
depmod -b "$R" "$KVER"
lab_log "modules copied + depmod ($(du -sm "$MDST" | cut -f1) MB, $(find "$MDST" -name '*.ko*' | wc -l) modules)"
else
  lab_log "modules: the rootfs's own ($(find "$R/lib/modules/$KVER" -name '*.ko*' | wc -l))"
fi

# ---------------------------------------------------------------- root image
# ConditionNeedsUpdate=/etc,/var (sysusers, ldconfig, hwdb, catalog update) would otherwise run on
# every VM's first boot: mark the image as updated (mtime newer than /usr; mkfs.ext4 -d keeps mtimes).
printf 'TIMESTAMP_NSEC=%s\n' "$(date -r "$R/usr" +%s%N)" | tee "$R/etc/.updated" >"$R/var/.updated"
truncate -s "$IMAGE_SIZE" "$WORK/root.img"
mkfs.ext4 -q -F -L vfs-root -d "$R" "$WORK/root.img"
lab_log "mkfs.ext4 -d done"
qemu-img convert -f raw -O qcow2 "$WORK/root.img" "$DST/base.qcow2"
rm -f "$WORK/root.img"
lab_log "qcow2 done ($(du -m "$DST/base.qcow2" | cut -f1) MB)"

# ---------------------------------------------------------------- kernel
# extract-vmlinux approach: find compressed-stream magics in the bzImage, decompress, keep the first
# ELF. QEMU boots an uncompressed ELF through its PVH entry (needs the XEN_ELFNOTE_PHYS32_ENTRY note,
# CONFIG_PVH=y), which skips the bzImage self-decompression (slow under TCG).
is_pvh_elf() {
  [[ -s $1 && $(head -c4 "$1" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] || return 1
  if command -v readelf >/dev/null 2>&1; then
    # owner Xen, note type 0x12 = XEN_ELFNOTE_PHYS32_ENTRY
    readelf -n "$1" 2>/dev/null | grep -Eq '^ *Xen .*(\(0x00000012\)|PHYS32_ENTRY)'
    return
  fi
  return 0
}
extract_vmlinux() { # IMG OUT
  local img=$1 out=$2 magic off dec
  for magic in '\xfd\x37\x7a\x58\x5a\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip'; do
    dec=${magic##*:}
    case $dec in
      xz) command -v xz >/dev/null && dec="xz -dc" || dec="busybox unxz -c" ;;
      zstd) command -v zstd >/dev/null || continue; dec="zstd -dcq" ;;
      gzip) dec="gzip -dc" ;;
    esac
    # shellcheck disable=SC2013 # offsets are single words
    for off in $(LC_ALL=C grep -obUaP "${magic%:*}" "$img" | cut -d: -f1); do
      tail -c +$((off + 1)) "$img" | $dec >"$out" 2>/dev/null || true # trailing data -> error; ignore
      if is_pvh_elf "$out"; then
        return 0
      fi
    done
  done
  rm -f "$out"
  return 1
}
if extract_vmlinux "$KROOT/boot/vmlinuz-$KVER" "$DST/vmlinux"; then
  echo vmlinux >"$DST/kernel"
  lab_log "kernel: extracted vmlinux with PVH note ($(du -m "$DST/vmlinux" | cut -f1) MB)"
else
  cp "$KROOT/boot/vmlinuz-$KVER" "$DST/vmlinuz"
  echo vmlinuz >"$DST/kernel"
  lab_log "kernel: vmlinux extraction failed, using bzImage vmlinuz"
fi

# ---------------------------------------------------------------- initramfs
I=$WORK/initrd
mkdir -p "$I"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$I/bin/busybox"
for a in sh mount umount insmod switch_root usleep sleep cat echo poweroff; do
  ln -s busybox "$I/bin/$a"
done
mknod -m 600 "$I/dev/console" c 5 1
mknod -m 666 "$I/dev/null" c 1 3
: >"$I/modules.list"
for m in "${INITRD_MODULES[@]}"; do
  modprobe -d "${KROOT:-/}" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  # busybox insmod takes plain .ko: trixie's modules are compressed
  case $ko in
    *.ko.xz) xz -dc "$ko" >"$I/lib/modules/$(basename "${ko%.xz}")" ;;
    *.ko.zst) zstd -qdc "$ko" >"$I/lib/modules/$(basename "${ko%.zst}")" ;;
    *) cp "$ko" "$I/lib/modules/" ;;
  esac
  ko=$(basename "$ko")
  echo "${ko%.ko*}.ko" >>"$I/modules.list"
done
cat >"$I/init" <<'INIT'
#!/bin/sh
# Tiny lab initramfs: load virtio + ext4 modules, mount root (root=, rootfstype=, rootflags=, ro|rw,
# init= from the kernel cmdline), switch_root. Powers off on failure so callers do not wait forever.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "lab-initrd: $*" >/dev/console
  echo "lab-initrd: powering off in 5 s" >/dev/console
  sleep 5
  poweroff -f
}
for m in $(cat /modules.list); do
  insmod "/lib/modules/$m" 2>/dev/null || echo "lab-initrd: insmod $m failed" >/dev/console
done
root=/dev/vda fstype=ext4 mode=rw flags= init=/sbin/init
for arg in $(cat /proc/cmdline); do
  case $arg in
    root=*) root=${arg#root=} ;;
    rootfstype=*) fstype=${arg#rootfstype=} ;;
    rootflags=*) flags=,${arg#rootflags=} ;;
    init=*) init=${arg#init=} ;;
    ro) mode=ro ;;
    rw) mode=rw ;;
  esac
done
i=0
while [ ! -b "$root" ]; do
  i=$((i + 1))
  [ $i -gt 300 ] && fail "root device $root did not appear"
  usleep 100000
done
mount -t "$fstype" -o "$mode$flags" "$root" /newroot || fail "cannot mount $root"
[ -x "/newroot$init" ] || [ -L "/newroot$init" ] || fail "no $init on $root"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$init"
INIT
chmod 755 "$I/init"
(cd "$I" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) | gzip -9 >"$DST/initrd.img"
lab_log "initramfs done ($(wc -l <"$I/modules.list") modules, $(du -k "$DST/initrd.img" | cut -f1) KB)"

echo "$CMDLINE" >"$DST/cmdline"
echo "$KVER" >"$DST/kernel-version"
recipe >"$DST/recipe"
chmod 644 "$DST"/* && chmod 600 "$DST/id_ed25519"
touch "$DST/.complete"
rm -rf "$OUT"
mv "$DST" "$OUT"
lab_log "removing the build rootfs"
rm -rf "$WORK"
lab_log "image ready: $OUT"
echo "$OUT"
