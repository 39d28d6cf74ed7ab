/**
 * Test hooks (environment variables, not module options):
 *
 * - VIRTIO_FS_ROOT: prefix prepended to the system files the runtime reads or writes on its own:
 *   /proc/self/mountinfo, /proc/filesystems, /proc/1/comm, /sys/module/virtiofs, /sys/fs/virtiofs,
 *   /etc/passwd, /etc/group, /etc/modules-load.d, /lib/modules. It is NOT applied to paths that are
 *   arguments (fstab, mount_point, xml_path). Unset on real hosts.
 * - VIRTIO_FS_BIN_DIR: directory where mount, umount, modprobe, modinfo, systemctl, dmesg and virsh are
 *   looked up. When set, a program missing from it is reported as not found (never taken from PATH),
 *   so tests cannot reach the real tools. Unset: the normal PATH plus the sbin directories.
 * - VIRTIO_FS_PROBE_STALL: JSON list of mount points, or of devices as "dev MAJOR:MINOR", whose health
 *   probe (share-health.ts) never answers, as on a share whose virtiofsd was killed. Unset on real hosts.
 * - VIRTIO_FS_PROBE_ERROR: JSON object from a mount point, or "dev MAJOR:MINOR", to the errno code its
 *   health probe gets (ENOTCONN: the device behind the mount was hot-unplugged). Unset on real hosts.
 * - VIRTIO_FS_PROBE_LOG: file every health probe appends the mount point it probes to (one line per
 *   probe started), so tests can count probes. Unset on real hosts.
 */
import * as path from "path";

/** Path of a system file, under VIRTIO_FS_ROOT when that is set. */
export function systemPath(absolute: string): string {
  const root = process.env.VIRTIO_FS_ROOT;
  if (!root) return absolute;
  return path.join(root, absolute);
}

/** Directory the external programs are taken from, or undefined for PATH lookup. */
export function binDir(): string | undefined {
  const dir = process.env.VIRTIO_FS_BIN_DIR;
  return dir ? dir : undefined;
}
