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

const CONNECTIONS = "/sys/fs/fuse/connections";

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
  return systemPath(`${CONNECTIONS}/${name}`);
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

/** Is fusectl mounted at all (the connections directory exists)? */
export function fusectlMounted(): boolean {
  try {
    return fs.statSync(systemPath(CONNECTIONS)).isDirectory();
  } catch {
    return false;
  }
}

/** Aborts the connection (writes 1 to its abort file); throws what the write threw. */
export function abortConnection(name: string): void {
  fs.writeFileSync(`${connectionDir(name)}/abort`, "1\n");
}
