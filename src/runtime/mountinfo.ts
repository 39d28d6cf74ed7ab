/**
 * /proc/self/mountinfo (proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * mount id, parent id, major:minor, root, mount point, per-mount options, optional fields, "-",
 * fstype, source, super options. The kernel escapes space, tab, newline and backslash in paths
 * and the source as \ooo.
 */
import * as fs from "fs";
import { systemPath } from "./env-hooks";

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** st_dev of the file system, "major:minor" (names the probe of a share, see share-health.ts). */
  device: string;
  root: string;
  mountPoint: string;
  /** Per-mount options (rw/ro, nosuid, nodev, noexec, relatime, ...). */
  mountOptions: string[];
  fstype: string;
  source: string;
  superOptions: string[];
  readonly: boolean;
}

/** Decodes every \ooo escape. */
export function decodeMountInfoField(field: string): string {
  let out = "";
  for (let i = 0; i < field.length; i++) {
    if (field[i] === "\\" && /^[0-7]{3}$/.test(field.slice(i + 1, i + 4))) {
      out += String.fromCharCode(parseInt(field.slice(i + 1, i + 4), 8));
      i += 3;
    } else out += field[i];
  }
  return out;
}

/** Escapes like the kernel does (space, tab, newline, backslash). */
export function encodeMountInfoField(value: string): string {
  let out = "";
  for (const c of value) {
    if (c === " " || c === "\t" || c === "\n" || c === "\\") out += "\\" + c.charCodeAt(0).toString(8).padStart(3, "0");
    else out += c;
  }
  return out;
}

function parseMountInfoLine(line: string): MountInfoEntry | undefined {
  const f = line.split(" ");
  const sep = f.indexOf("-", 6);
  if (f.length < 10 || sep < 0 || sep + 3 > f.length) return undefined;
  const mountOptions = f[5].split(",");
  return {
    mountId: Number(f[0]),
    parentId: Number(f[1]),
    device: f[2],
    root: decodeMountInfoField(f[3]),
    mountPoint: decodeMountInfoField(f[4]),
    mountOptions,
    fstype: f[sep + 1],
    source: decodeMountInfoField(f[sep + 2]),
    superOptions: (f[sep + 3] ?? "").split(",").filter((o) => o !== ""),
    readonly: mountOptions.includes("ro"),
  };
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const e = parseMountInfoLine(line);
    if (e) out.push(e);
  }
  return out;
}

/** Reads the mount table of this process (VIRTIO_FS_ROOT applies). */
export function readMountInfo(): MountInfoEntry[] {
  return parseMountInfo(fs.readFileSync(systemPath("/proc/self/mountinfo"), "utf8"));
}

/** The mount visible at a path: the last (topmost) entry for that mount point. */
export function topMountAt(entries: MountInfoEntry[], mountPoint: string): MountInfoEntry | undefined {
  let found: MountInfoEntry | undefined;
  for (const e of entries) if (e.mountPoint === mountPoint) found = e;
  return found;
}

/** Mounts of the virtiofs file system type. */
export function virtiofsMounts(entries: MountInfoEntry[]): MountInfoEntry[] {
  return entries.filter((e) => e.fstype === "virtiofs");
}
