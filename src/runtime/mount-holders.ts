/**
 * Which processes hold a mount (what `fuser -vm` would say; guests often have neither fuser nor
 * lsof): a scan of /proc/<pid>/cwd, root, fd/* (readlink) and maps (the device field).
 * None of these reads sends a request to the mounted file system (the kernel builds the link text
 * from its own dentries), so the scan cannot block on a dead share; it is still bounded by a
 * deadline on the guest's process count. VIRTIO_FS_ROOT applies (env-hooks.ts).
 */
import * as fs from "fs";
import { systemPath } from "./env-hooks";

export interface Holder {
  pid: number;
  comm: string;
  /** How it holds the mount: cwd, root, fd N, maps. */
  uses: string[];
}

export interface HolderScan {
  holders: Holder[];
  /** The deadline passed before every process was looked at. */
  incomplete: boolean;
}

/** Is a link text (possibly ending in " (deleted)") the mount point or below it? */
function under(link: string, mountPoint: string): boolean {
  const p = link.endsWith(" (deleted)") ? link.slice(0, -" (deleted)".length) : link;
  return p === mountPoint || p.startsWith(mountPoint === "/" ? "/" : `${mountPoint}/`);
}

function readlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** The maps line's device field ("00:2d", hex) as "major:minor" in decimal. */
function mapsDevice(field: string): string | undefined {
  const m = /^([0-9a-f]+):([0-9a-f]+)$/i.exec(field);
  return m ? `${parseInt(m[1], 16)}:${parseInt(m[2], 16)}` : undefined;
}

function usesOf(dir: string, mountPoint: string, device: string): string[] {
  const uses: string[] = [];
  for (const link of ["cwd", "root"]) {
    const t = readlink(`${dir}/${link}`);
    if (t !== undefined && under(t, mountPoint)) uses.push(link);
  }
  let fds: string[];
  try {
    fds = fs.readdirSync(`${dir}/fd`);
  } catch {
    fds = [];
  }
  for (const fd of fds.sort((a, b) => Number(a) - Number(b))) {
    const t = readlink(`${dir}/fd/${fd}`);
    if (t !== undefined && under(t, mountPoint)) uses.push(`fd ${fd}`);
  }
  try {
    const maps = fs.readFileSync(`${dir}/maps`, "utf8");
    if (maps.split("\n").some((l) => mapsDevice(l.split(/\s+/)[3] ?? "") === device)) uses.push("maps");
  } catch {
    // the process ended, or its maps are not readable
  }
  return uses;
}

/** The processes holding the mount at mountPoint (kernel path) of device "major:minor". */
export function mountHolders(mountPoint: string, device: string, timeoutMs: number): HolderScan {
  const end = Date.now() + timeoutMs;
  const proc = systemPath("/proc");
  let pids: number[];
  try {
    pids = fs
      .readdirSync(proc)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return { holders: [], incomplete: true };
  }
  const holders: Holder[] = [];
  for (const pid of pids) {
    if (Date.now() > end) return { holders, incomplete: true };
    if (pid === process.pid) continue;
    const dir = `${proc}/${pid}`;
    const uses = usesOf(dir, mountPoint, device);
    if (uses.length === 0) continue;
    let comm = "?";
    try {
      comm = fs.readFileSync(`${dir}/comm`, "utf8").trim();
    } catch {
      // gone meanwhile
    }
    holders.push({ pid, comm, uses });
  }
  return { holders, incomplete: false };
}

/** "held by 1234 (bash: cwd), 99 (python3: fd 3, maps)" for messages. */
export function describeHolders(scan: HolderScan): string {
  if (scan.holders.length === 0)
    return scan.incomplete
      ? "no process holding it was found before the scan's deadline"
      : "no process holds it (a mount below it or the kernel may)";
  const list = scan.holders.map((h) => `${h.pid} (${h.comm}: ${h.uses.join(", ")})`).join(", ");
  return `held by ${list}${scan.incomplete ? ", and maybe more (the scan stopped at its deadline)" : ""}`;
}
