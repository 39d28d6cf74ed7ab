/**
 * The kernel's view of a FUSE connection (virtio-fs is one), from the fusectl file system
 * (Documentation/filesystems/fuse.rst, "Control filesystem"): /sys/fs/fuse/connections/<dev>/ with
 * `waiting` (requests sent and not answered yet) and `abort` (writing to it ends the connection: every
 * pending and future request fails with ENOTCONN, so processes blocked in D wake up).
 * Reading and writing these files never sends a request to the daemon, so they cannot block on it.
 * VIRTIO_FS_ROOT applies (env-hooks.ts).
 */
import * as fs from "fs";
import { systemPath } from "./env-hooks";
import type { MountInfoEntry } from "./mountinfo";

/** Where the kernel lists FUSE connections once fusectl is mounted there. */
export const CONNECTIONS = "/sys/fs/fuse/connections";

/**
 * The connection's directory name: the kernel names it after the super block's dev_t as an unsigned
 * number, MKDEV(major, minor) = major << 20 | minor; FUSE mounts use anonymous devices (major 0), so
 * it is the minor number mountinfo shows.
 */
export function connectionName(entry: Pick<MountInfoEntry, "device">): string | undefined {
  const m = /^(\d+):(\d+)$/.exec(entry.device);
  if (!m) return undefined;
  return String(Number(m[1]) * 2 ** 20 + Number(m[2]));
}

export function connectionDir(name: string): string {
  return `${connectionsDir()}/${name}`;
}

/** Requests waiting for an answer, or undefined when fusectl does not list the connection. */
export function readWaiting(name: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(`${connectionDir(name)}/waiting`, "utf8").trim());
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where fusectl belongs (under VIRTIO_FS_ROOT in tests). The directory exists once the fuse kernel
 * module is loaded (virtiofs loads it), but it is empty until fusectl is mounted on it: systemd's
 * sys-fs-fuse-connections.mount does that at boot only when fuse was loaded by then, so a guest
 * whose virtiofs (and fuse) module was loaded later, e.g. by this collection, has no fusectl.
 */
export function connectionsDir(): string {
  return systemPath(CONNECTIONS);
}

/** Does the fuse module's connections directory exist (so fusectl can be mounted on it)? */
export function connectionsDirExists(): boolean {
  try {
    return fs.statSync(connectionsDir()).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Is fusectl mounted on the connections directory? Decided from the mount table, not from the
 * directory (which exists, empty, without fusectl). Without it there is no `waiting` to read and no
 * `abort` to write: a probe that does not answer stays blocked, and a dead connection cannot be aborted.
 */
export function fusectlMounted(mountinfo: MountInfoEntry[]): boolean {
  const dir = connectionsDir();
  let real = dir;
  try {
    real = fs.realpathSync(dir); // sysfs (or the test root): never a share, cannot block
  } catch {
    /* not there: compare the plain path */
  }
  return mountinfo.some((e) => e.fstype === "fusectl" && (e.mountPoint === dir || e.mountPoint === real));
}

/** The mount(8) arguments that mount fusectl on the connections directory. */
export function fusectlMountArgs(): string[] {
  return ["-t", "fusectl", "--", "fusectl", connectionsDir()];
}

/** Aborts the connection (writes 1 to its abort file); throws what the write threw. */
export function abortConnection(name: string): void {
  fs.writeFileSync(`${connectionDir(name)}/abort`, "1\n");
}
