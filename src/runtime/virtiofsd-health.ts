/**
 * Is the virtiofsd of each share of a running domain alive, and does it still serve the directory
 * the device names? Read from /proc and libvirt's pid files only: the daemon is never asked anything,
 * so a dead or stuck daemon cannot make the check wait.
 *
 * Finding the daemon: libvirt's QEMU driver starts one virtiofsd per <filesystem> and writes its pid
 * to <run dir>/<domain id>-<short name>-<device alias>-fs.pid (qemuVirtioFSCreatePidFilename; seen on
 * libvirt 9.0: /run/libvirt/qemu/1-vfs-host-fs0-fs.pid). The domain id is unique among running
 * domains, so the file is found by its id prefix and alias suffix, whatever the name truncation. A
 * pid whose process is gone or is no virtiofsd (pid reuse) counts as dead. Without a pid file (a run
 * dir in another mount namespace), the virtiofsd processes whose command line serves the device's
 * directory (-o source=DIR or --shared-dir DIR) stand in.
 *
 * What it serves: the C and the Rust virtiofsd (sandbox namespace, the default) pivot_root into the
 * shared directory, so stat(/proc/PID/root) of the daemon or of its child is that directory, even
 * after it was moved or deleted (its path from our namespace reads "/", useless). Without a sandbox
 * the directory is an open file descriptor whose link names the path. Its device and inode are
 * compared with the device's source directory now: gone (ENOENT) or another inode means the guest
 * sees a directory the host no longer has at that path.
 */
import * as fs from "fs";
import * as path from "path";
import { systemPath } from "./env-hooks";

export type ShareStatus =
  "ok" | "virtiofsd dead" | "host directory gone" | "host directory replaced" | "not attached" | "unknown";

export interface ShareHealth {
  tag: string;
  status: ShareStatus;
  /** What was observed, for the operator. */
  detail: string;
  pid?: number;
}

/** A virtiofs device of the running domain, from its live XML. */
export interface LiveDevice {
  tag: string;
  alias?: string;
  sourceDir: string;
}

/** How deep below the pid file's process the daemon that serves may be (the C virtiofsd forks once). */
const MAX_DEPTH = 3;

/** The shared directory a virtiofsd command line names, or undefined. */
export function sharedDirOf(argv: string[]): string | undefined {
  // QEMU option syntax, as libvirt writes it (virQEMUBuildBufferEscapeComma): "," separates, ",," is a comma
  const fromOptions = (opts: string): string | undefined => {
    const items: string[] = [""];
    for (let i = 0; i < opts.length; i++) {
      if (opts[i] !== ",") items[items.length - 1] += opts[i];
      else if (opts[i + 1] === ",") items[items.length - 1] += opts[++i];
      else items.push("");
    }
    const source = items.find((o) => o.startsWith("source="));
    return source === undefined ? undefined : source.slice("source=".length);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--shared-dir" && i + 1 < argv.length) return argv[i + 1];
    if (a.startsWith("--shared-dir=")) return a.slice("--shared-dir=".length);
    const o =
      a === "-o" && i + 1 < argv.length ? argv[++i] : a.startsWith("-o") && a.length > 2 ? a.slice(2) : undefined;
    const dir = o === undefined ? undefined : fromOptions(o);
    if (dir !== undefined) return dir;
  }
  return undefined;
}

function procPath(...parts: string[]): string {
  return systemPath(path.join("/proc", ...parts));
}

/** argv of a process, or undefined when it is gone. */
function cmdline(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(procPath(String(pid), "cmdline"), "utf8");
    if (raw === "") return undefined; // a zombie has no command line
    return raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
}

function isVirtiofsd(argv: string[] | undefined): boolean {
  return !!argv && argv.some((a) => path.basename(a).includes("virtiofsd"));
}

function numericEntries(dir: string): number[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => /^[0-9]+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** Parent pid of every process (from /proc/PID/stat: the field after the ")" that ends comm, then state). */
function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of numericEntries(procPath())) {
    try {
      const stat = fs.readFileSync(procPath(String(pid), "stat"), "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(pid, Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(pid: number, parents: Map<number, number>): number[] {
  const out: number[] = [];
  let level = [pid];
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next = [...parents].filter(([, ppid]) => level.includes(ppid)).map(([p]) => p);
    out.push(...next);
    level = next;
  }
  return out;
}

/** The pid libvirt recorded for a device of the domain with this id, or undefined. */
export function pidFromFile(runDir: string, domainId: string, alias: string): number | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return undefined;
  }
  const name = names.find((n) => n.startsWith(`${domainId}-`) && n.endsWith(`-${alias}-fs.pid`));
  if (!name) return undefined;
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, name), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

interface Ident {
  dev: number;
  ino: number;
  nlink: number;
}

function statIdent(p: string): Ident | undefined {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? { dev: st.dev, ino: st.ino, nlink: st.nlink } : undefined;
  } catch {
    return undefined;
  }
}

/** The directory a daemon (or a process below it) serves: its sandbox root, else an open fd naming the directory. */
function servedDirectory(pids: number[], sourceDir: string): Ident | undefined {
  const hostRoot = statIdent(systemPath("/"));
  for (const pid of pids) {
    const root = statIdent(procPath(String(pid), "root"));
    if (root && !(hostRoot && root.dev === hostRoot.dev && root.ino === hostRoot.ino)) return root;
  }
  for (const pid of pids) {
    for (const fd of numericEntries(procPath(String(pid), "fd"))) {
      let link: string;
      try {
        link = fs.readlinkSync(procPath(String(pid), "fd", String(fd)));
      } catch {
        continue;
      }
      if (link === sourceDir || link === `${sourceDir} (deleted)`) {
        const id = statIdent(procPath(String(pid), "fd", String(fd)));
        if (id) return id;
      }
    }
  }
  return undefined;
}

/** Health of one live device; domainId undefined when virsh could not tell it (the pid files are skipped). */
export function deviceHealth(dev: LiveDevice, runDir: string, domainId: string | undefined): ShareHealth {
  const parents = parentPids();
  // no process visible at all (a chroot without /proc): nothing can be told, and nothing is done about it
  if (parents.size === 0) return { tag: dev.tag, status: "unknown", detail: `cannot list processes in ${procPath()}` };
  let pid = domainId !== undefined && dev.alias ? pidFromFile(runDir, domainId, dev.alias) : undefined;
  let how = `pid file in ${runDir}`;
  if (pid !== undefined && !isVirtiofsd(cmdline(pid))) {
    // a daemon that forks (C virtiofsd) is served by the child when the recorded parent is gone
    return {
      tag: dev.tag,
      status: "virtiofsd dead",
      pid,
      detail: `virtiofsd ${pid} (from its ${how}) is no longer running`,
    };
  }
  if (pid === undefined) {
    how = "process scan";
    const serving = [...parents.keys()].filter((p) => {
      const argv = cmdline(p);
      return isVirtiofsd(argv) && sharedDirOf(argv!) === dev.sourceDir && !isVirtiofsd(cmdline(parents.get(p)!));
    });
    if (serving.length === 0)
      return {
        tag: dev.tag,
        status: "virtiofsd dead",
        detail: `no virtiofsd process serves ${dev.sourceDir} (no pid file for device ${dev.alias ?? "?"} in ${runDir})`,
      };
    pid = serving[0];
  }
  const served = servedDirectory([pid, ...descendants(pid, parents)], dev.sourceDir);
  if (!served)
    return {
      tag: dev.tag,
      status: "ok",
      pid,
      detail: `virtiofsd ${pid} runs (${how}); the directory it serves could not be read from /proc`,
    };
  const now = statIdent(dev.sourceDir);
  const deleted = served.nlink === 0 ? "deleted" : "moved or deleted";
  if (!now)
    return {
      tag: dev.tag,
      status: "host directory gone",
      pid,
      detail: `${dev.sourceDir} is no longer a directory; virtiofsd ${pid} still serves the old one (${deleted})`,
    };
  if (now.dev !== served.dev || now.ino !== served.ino)
    return {
      tag: dev.tag,
      status: "host directory replaced",
      pid,
      detail: `virtiofsd ${pid} serves device:inode ${served.dev}:${served.ino}, but ${dev.sourceDir} is now ${now.dev}:${now.ino} (the directory was ${deleted} and another put in its place)`,
    };
  return { tag: dev.tag, status: "ok", pid, detail: `virtiofsd ${pid} serves ${dev.sourceDir} (${how})` };
}
