/**
 * Is a mounted virtio-fs share answering? Decided without ever blocking the module.
 *
 * The kernel has no request-free view of a virtio-fs connection: fusectl (/sys/fs/fuse/connections)
 * lists FUSE connections, but not virtio-fs ones since Linux 5.19 ("fuse: Remove the control interface
 * for virtio-fs", also in the stable kernels; seen empty on the lab's 6.1 and 6.12 guests with a share
 * mounted), because a request already handed to the device cannot be aborted. So there is no waiting
 * count to read and no abort to write, and a request sent to a dead share waits until the domain
 * restarts (a fatal signal leaves it in D). The health therefore comes from a probe:
 *
 * 1. A probe left by an earlier run on the same mount (process title `virtio-fs-probe <dev> <mount
 *    point>`, still alive after the deadline) answers for it: the share has not answered since that
 *    probe started, and no request is added, so repeated runs leave one probe per dead share.
 * 2. Otherwise a probe child stats, statfs's and reads one entry of the share root, abandoned (not
 *    killed: a signal would turn its wait into D) at the deadline (bounded-child.ts). A probe that does
 *    not answer stays waiting in the kernel (state S, harmless) until the domain restarts.
 *
 * What the probe result means:
 * - ENOTCONN or ECONNABORTED: the device behind the mount is gone (hot-unplugged or replaced on the
 *   host, see virtio_fs_domain): "aborted"; a new mount of the tag reaches the new device;
 * - a root with 0 links (rmdir'd or deleted host directory: virtiofsd still holds it open and serves
 *   the empty unlinked directory) or ENOENT/ESTALE on the root: "host directory gone". A host directory
 *   that was moved (renamed) is NOT visible from the guest: virtiofsd keeps serving it at its new place;
 * - no answer in time: "not answering".
 * Test hooks (env-hooks.ts): VIRTIO_FS_PROBE_STALL, VIRTIO_FS_PROBE_ERROR, VIRTIO_FS_PROBE_LOG.
 */
import * as fs from "fs";
import { runBounded, type BoundedResult } from "./bounded-child";
import type { MountInfoEntry } from "./mountinfo";

export type Health = "ok" | "not answering" | "aborted" | "host directory gone";

/** What the probe saw of the share root (a directory, never touched by the module itself). */
export interface ProbedRoot {
  uid: number;
  gid: number;
  mode: number;
  nlink: number;
  empty: boolean;
}

export interface ShareHealth {
  health: Health;
  /** How it was determined, for the operator. */
  source: string;
  /** Set when health is ok. */
  root?: ProbedRoot;
  /** The probe child left waiting on the share (it did not answer in time; it ends with the domain). */
  abandonedProbe?: number;
  /** An earlier run's probe still waits on the share: no new request was sent. */
  earlierProbe?: number;
}

/** The probe's process title: what a later run looks for in /proc/<pid>/cmdline. */
export function probeTitle(entry: Pick<MountInfoEntry, "device" | "mountPoint">): string {
  return `virtio-fs-probe ${entry.device} ${entry.mountPoint}`;
}

/** Runs in the probe child: argv[1] is the mount point, argv[2] its device; prints one JSON object. */
const PROBE_SOURCE = `
process.title = "virtio-fs-probe " + process.argv[2] + " " + process.argv[1];
const fs = require("fs");
fs.writeSync(1, "ready\\n");
const p = process.argv[1];
if (process.env.VIRTIO_FS_PROBE_LOG) fs.appendFileSync(process.env.VIRTIO_FS_PROBE_LOG, p + "\\n");
const stall = JSON.parse(process.env.VIRTIO_FS_PROBE_STALL || "[]");
// test hook: the error a request gets, e.g. ENOTCONN once the device behind the mount is gone
const fail = JSON.parse(process.env.VIRTIO_FS_PROBE_ERROR || "{}");
const code = fail["dev " + process.argv[2]] || fail[p];
if (code) {
  process.stdout.write(JSON.stringify({ error: { op: "stat", code, message: code + " (VIRTIO_FS_PROBE_ERROR)" } }));
} else if (stall.includes(p) || stall.includes("dev " + process.argv[2])) {
  // test hook: a request that does not come back before the caller's deadline, with a helper that
  // holds the pipe longer (as a blocked process keeps its descriptors)
  require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { detached: true, stdio: ["ignore", 1, 2] }).unref();
  setTimeout(() => {}, 10000);
} else {
  const out = {};
  let op = "stat";
  try {
    const s = fs.statSync(p);
    out.root = { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, nlink: s.nlink, empty: false };
    op = "statfs";
    if (fs.statfsSync) fs.statfsSync(p);
    op = "readdir";
    const d = fs.opendirSync(p);
    out.root.empty = d.readSync() === null;
    d.closeSync();
  } catch (e) {
    out.error = { op, code: e.code || String(e), message: e.message };
  }
  process.stdout.write(JSON.stringify(out));
}
`;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Seconds since boot, from /proc/uptime (never a share). */
function uptimeSeconds(): number | undefined {
  try {
    return Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/**
 * An earlier probe of this mount that is still waiting, and for how long (seconds): found by its
 * process title in /proc/<pid>/cmdline and its start time (field 22 of /proc/<pid>/stat, in clock
 * ticks of 1/100 s, USER_HZ on Linux). Neither file ever waits on a share.
 */
export function findEarlierProbe(
  entry: Pick<MountInfoEntry, "device" | "mountPoint">,
): { pid: number; ageSeconds: number } | undefined {
  const title = probeTitle(entry);
  const up = uptimeSeconds();
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.split("\0")[0].trimEnd() !== title) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const started = Number(fields[19]) / 100; // field 22 overall; fields[0] is field 3
      const ageSeconds = up !== undefined && Number.isFinite(started) ? Math.max(0, up - started) : 0;
      return { pid: Number(pid), ageSeconds };
    } catch {
      continue; // the process ended meanwhile
    }
  }
  return undefined;
}

/** Turns a probe run into a health (pure: tested on its own). */
export function classifyProbe(r: BoundedResult, timeoutMs: number): ShareHealth {
  if (r.timedOut)
    return {
      health: "not answering",
      source: `a stat/statfs/readdir of the share root got no answer within ${seconds(timeoutMs)}`,
    };
  let out: { root?: ProbedRoot; error?: { op: string; code: string; message: string } };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    return {
      health: "not answering",
      source: `the probe of the share root failed (exit ${r.rc}${r.spawnError ? `, ${r.spawnError}` : ""}: ${r.stderr.trim() || "no output"})`,
    };
  }
  if (out.error) {
    const { op, code } = out.error;
    // ECONNABORTED: a request pending when the connection was aborted; ENOTCONN: any request after
    if (code === "ENOTCONN" || code === "ECONNABORTED")
      return {
        health: "aborted",
        source: `${op} of the share root failed with ${code}: the device behind the mount is gone (hot-unplugged or replaced on the host)`,
      };
    if (code === "ENOENT" || code === "ESTALE")
      return {
        health: "host directory gone",
        source: `${op} of the share root failed with ${code}: virtiofsd no longer finds the shared host directory`,
      };
    return { health: "not answering", source: `${op} of the share root failed: ${out.error.message}` };
  }
  if (out.root && out.root.nlink === 0)
    return {
      health: "host directory gone",
      source:
        "the share root has 0 links: the shared host directory was deleted while mounted (virtiofsd serves the empty unlinked directory; every create fails)",
      root: out.root,
    };
  return {
    health: "ok",
    source: `the share root answered a stat, statfs and readdir in ${seconds(r.elapsedMs)}`,
    root: out.root,
  };
}

/**
 * The health of one mounted share, never blocking the caller: an earlier run's probe still waiting
 * past the deadline decides without a request; otherwise a probe bounded by timeoutMs.
 */
export async function checkShare(entry: MountInfoEntry, timeoutMs: number): Promise<ShareHealth> {
  const earlier = findEarlierProbe(entry);
  if (earlier && earlier.ageSeconds * 1000 >= timeoutMs)
    return {
      health: "not answering",
      source:
        `an earlier probe of the share root (pid ${earlier.pid}, virtio-fs-probe) has waited ` +
        `${Math.round(earlier.ageSeconds)}s for its answer (no new request sent)`,
      earlierProbe: earlier.pid,
    };
  const r = await runBounded(process.execPath, ["-e", PROBE_SOURCE, "--", entry.mountPoint, entry.device], {
    timeoutMs,
    env: process.env,
    readyMarker: "ready",
  });
  const h = classifyProbe(r, timeoutMs);
  return { ...h, ...(r.timedOut && r.pid !== undefined ? { abandonedProbe: r.pid } : {}) };
}

/**
 * The health of several shares at once (each bounded; together bounded by the slowest), one probe
 * at most per share.
 */
export function checkShares(entries: MountInfoEntry[], timeoutMs: number): Promise<ShareHealth[]> {
  return Promise.all(entries.map((e) => checkShare(e, timeoutMs)));
}
