/**
 * Is a mounted virtio-fs share answering? Decided without ever blocking the module:
 *
 * 1. The kernel's FUSE connection state first (fuse-connection.ts), which costs no request: when
 *    `waiting` is above 0, it is watched for the deadline. A daemon that answers completes requests,
 *    so the count goes down at some point; a dead one (virtiofsd killed) answers nothing and the count
 *    never goes down. A connection that never goes down is "not answering" and no request is added
 *    to the ones already stuck on it (so repeated runs leave at most one probe behind per connection).
 *    A request that legitimately waits long (a blocking POSIX lock with virtiofsd's posix_lock) also
 *    keeps the count up: so before a recovery aborts a connection on this evidence alone, the
 *    caller confirms with a probe (probeAnyway), which the abort frees if the daemon is really gone.
 * 2. Otherwise a probe child (process title virtio-fs-probe) stats, statfs's and reads one entry of the
 *    share root, abandoned (not killed) at the deadline (bounded-child.ts). A probe that does not
 *    answer stays waiting in the kernel (state S) until the connection is aborted or the VM restarts:
 *    that is the price of finding out, paid once per dead connection (see 1.) while fusectl is
 *    mounted. Without fusectl there is no waiting count (every run probes again, and each probe of a
 *    dead share stays) and no abort: virtio_fs_mount mounts it; virtio_fs_info, read-only, reports it.
 *
 * What the probe result means:
 * - ENOTCONN or ECONNABORTED: the connection was aborted (echo 1 > .../abort, or a recovery): "aborted";
 * - a root with 0 links (rmdir'd or deleted host directory: virtiofsd still holds it open and serves
 *   the empty unlinked directory) or ENOENT/ESTALE on the root: "host directory gone". A host directory
 *   that was moved (renamed) is NOT visible from the guest: virtiofsd keeps serving it at its new place;
 * - no answer in time: "not answering".
 * Test hooks (env-hooks.ts): VIRTIO_FS_PROBE_STALL, VIRTIO_FS_PROBE_LOG.
 */
import { runBounded, type BoundedResult } from "./bounded-child";
import { CONNECTIONS, connectionName, readWaiting } from "./fuse-connection";
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
  /** FUSE connection name (fusectl directory), when known. */
  connection?: string;
  /** Unanswered requests when last read from fusectl. */
  waiting?: number;
  /** Set when health is ok. */
  root?: ProbedRoot;
  /** The verdict comes from the waiting count alone: no request was sent to the share. */
  fromWaitingOnly?: boolean;
  /** The probe child left waiting on the share (it did not answer in time; it ends with an abort). */
  abandonedProbe?: number;
}

export interface CheckOptions {
  /** Send the probe even when the waiting count says the connection is stuck (to confirm it). */
  probeAnyway?: boolean;
  /** Is fusectl mounted (fuse-connection.ts)? false: the health source says what that costs. */
  fusectl?: boolean;
}

/** Runs in the probe child: argv[1] is the mount point, argv[2] its device; prints one JSON object. */
const PROBE_SOURCE = `
process.title = "virtio-fs-probe";
const fs = require("fs");
fs.writeSync(1, "ready\\n");
const p = process.argv[1];
if (process.env.VIRTIO_FS_PROBE_LOG) fs.appendFileSync(process.env.VIRTIO_FS_PROBE_LOG, p + "\\n");
const stall = JSON.parse(process.env.VIRTIO_FS_PROBE_STALL || "[]");
if (stall.includes(p) || stall.includes("dev " + process.argv[2])) {
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

/** Watches `waiting` until it goes down (true) or the deadline passes (false). */
async function waitingGoesDown(
  name: string,
  first: number,
  timeoutMs: number,
): Promise<{ down: boolean; last: number }> {
  const end = Date.now() + timeoutMs;
  const step = Math.max(20, Math.min(250, timeoutMs / 10));
  let last = first;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, step));
    const now = readWaiting(name);
    if (now === undefined || now < last) return { down: true, last: now ?? 0 };
    last = now;
  }
  return { down: false, last };
}

/** Turns a probe run into a health (pure: tested on its own). */
export function classifyProbe(r: BoundedResult, timeoutMs: number, connectionNote: string): ShareHealth {
  if (r.timedOut)
    return {
      health: "not answering",
      source: `a stat/statfs/readdir of the share root got no answer within ${seconds(timeoutMs)}${connectionNote}`,
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
        source: `${op} of the share root failed with ${code}: the FUSE connection was aborted (fusectl abort, or the daemon went away)`,
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
 * The health of one mounted share, never blocking the caller: at most timeoutMs watching `waiting`,
 * then timeoutMs for the probe to start and timeoutMs for its answer.
 */
export async function checkShare(
  entry: MountInfoEntry,
  timeoutMs: number,
  opts: CheckOptions = {},
): Promise<ShareHealth> {
  const name = connectionName(entry);
  const waiting = name === undefined ? undefined : readWaiting(name);
  const conn = name === undefined ? {} : { connection: name };
  if (!opts.probeAnyway && name !== undefined && waiting !== undefined && waiting > 0) {
    const w = await waitingGoesDown(name, waiting, timeoutMs);
    if (!w.down)
      return {
        health: "not answering",
        source:
          `${CONNECTIONS}/${name}/waiting stayed at ${w.last} unanswered request(s) for ${seconds(timeoutMs)} ` +
          `without going down (no request sent)`,
        ...conn,
        waiting: w.last,
        fromWaitingOnly: true,
      };
  }
  const r = await runBounded(process.execPath, ["-e", PROBE_SOURCE, "--", entry.mountPoint, entry.device], {
    timeoutMs,
    env: process.env,
    readyMarker: "ready",
  });
  const after = name === undefined ? undefined : readWaiting(name);
  const note =
    opts.fusectl === false
      ? ` (fusectl is not mounted at ${CONNECTIONS}: no waiting count to read, and no abort for a probe that does not answer)`
      : name === undefined
        ? ""
        : after === undefined
          ? ` (fusectl does not list connection ${name})`
          : ` (${CONNECTIONS}/${name}/waiting: ${after})`;
  const h = classifyProbe(r, timeoutMs, note);
  return {
    ...h,
    ...conn,
    ...(after !== undefined ? { waiting: after } : {}),
    ...(r.timedOut && r.pid !== undefined ? { abandonedProbe: r.pid } : {}),
  };
}

/**
 * The health of several shares at once (each bounded; together bounded by the slowest), one probe
 * at most per share.
 */
export function checkShares(
  entries: MountInfoEntry[],
  timeoutMs: number,
  opts: CheckOptions = {},
): Promise<ShareHealth[]> {
  return Promise.all(entries.map((e) => checkShare(e, timeoutMs, opts)));
}
