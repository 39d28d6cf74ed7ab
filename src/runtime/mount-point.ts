/**
 * A mount point path as the kernel sees it, and the only file operations the module does on it.
 *
 * Symbolic links (the decision, see also the header of modules/virtio_fs_mount.ts):
 * - Parents may be symlinks (/home -> /var/home). The existing part of the path is resolved once
 *   with realpath; the result (the "kernel path") is what /proc/self/mountinfo lists, so it is what
 *   mounts are compared with. fstab keeps the configured path (mount(8) and systemd resolve it the
 *   same way).
 * - A mount point that is ITSELF a symlink is refused for mounted/present: mounting on it would mount
 *   on its target, and chown/chmod would change the target, something outside the mount point.
 * - chown/chmod go through a descriptor opened with O_NOFOLLOW | O_DIRECTORY, so they never act on
 *   anything but the mount point directory itself (or a parent this run created).
 */
import * as fs from "fs";
import * as path from "path";
import { normaliseMountPath } from "./fstab";
import type { ProbedRoot } from "./share-health";

export type NodeKind = "missing" | "directory" | "symlink" | "other";

export interface PathObservation {
  /** The configured path. */
  path: string;
  /** What mountinfo lists for it: the existing part resolved with realpath, the rest appended. */
  kernelPath: string;
  kind: NodeKind;
  /** Set for an existing directory. */
  uid?: number;
  gid?: number;
  mode?: number;
  /** Empty directory (only looked at for directories). */
  empty?: boolean;
  /** Where a symlink points (for messages). */
  linkTarget?: string;
  /** Missing parents, shallowest first (created root:root 0755 when the mount point is created). */
  missingParents: string[];
  /** Why the path cannot be (or be made) a directory: a parent that is a file, a dangling link, EACCES. */
  blocked?: string;
}

function lstatOrError(p: string): fs.Stats | NodeJS.ErrnoException {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

const isMissing = (e: NodeJS.ErrnoException) => e.code === "ENOENT" || e.code === "ENOTDIR";

/**
 * Mounted virtio-fs share roots (kernel path -> what the health probe saw of the root, undefined when
 * it did not answer). The module never stats, lstats, realpaths or reads such a path itself: on a
 * share whose virtiofsd is gone that would block it forever (share-health.ts probes them instead).
 */
export type ShareRoots = ReadonlyMap<string, ProbedRoot | undefined>;

const NO_ROOTS: ShareRoots = new Map();

/** Is the path a share root or below one? */
function onShare(p: string, roots: ShareRoots): boolean {
  for (const r of roots.keys()) if (p === r || p.startsWith(r === "/" ? "/" : `${r}/`)) return true;
  return false;
}

/**
 * Resolves what exists of an absolute path (symbolic links, like realpath); the missing rest is
 * appended unresolved. Resolution is done one component at a time so that it stops at a share root
 * (a mount point is never a symlink: mount(2) follows links), which is never looked at.
 */
export function kernelPathOf(p: string, roots: ShareRoots = NO_ROOTS): string {
  const norm = normaliseMountPath(p);
  if (!norm.startsWith("/")) return norm;
  return resolveFrom("/", norm.split("/"), roots, { links: 0 }).path;
}

/**
 * Walks components from an existing, resolved directory. complete: false when a component is missing
 * (the rest is then appended as written); a dangling or looping link stays as written too, as
 * realpath's failure left it in the walk-up this replaces.
 */
function resolveFrom(
  start: string,
  components: string[],
  roots: ShareRoots,
  budget: { links: number },
): { path: string; complete: boolean } {
  const queue = components.filter((c) => c !== "" && c !== ".");
  let cur = start;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "..") {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, c);
    const rest = () => ({ path: path.join(next, ...queue), complete: false });
    if (onShare(next, roots)) return { path: path.join(next, ...queue), complete: true };
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      return rest();
    }
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++budget.links > 40) return rest();
    let target: string;
    try {
      target = fs.readlinkSync(next);
    } catch {
      return rest();
    }
    const resolved = resolveFrom(target.startsWith("/") ? "/" : cur, target.split("/"), roots, budget);
    if (!resolved.complete) return rest();
    cur = resolved.path;
  }
  return { path: cur, complete: true };
}

/**
 * Looks at a mount point path without changing anything. A share root (roots) is described from its
 * probe, never looked at.
 */
export function observePath(p: string, roots: ShareRoots = NO_ROOTS): PathObservation {
  const obs: PathObservation = { path: p, kernelPath: kernelPathOf(p, roots), kind: "missing", missingParents: [] };
  if (onShare(obs.kernelPath, roots)) {
    const probed = roots.get(obs.kernelPath);
    obs.kind = "directory";
    if (probed) Object.assign(obs, { uid: probed.uid, gid: probed.gid, mode: probed.mode, empty: probed.empty });
    else obs.blocked = `${obs.kernelPath} is on a virtio-fs share that does not answer`;
    return obs;
  }
  const st = lstatOrError(p);
  if (st instanceof Error) {
    if (!isMissing(st)) {
      obs.blocked = st.message;
      return obs;
    }
  } else if (st.isSymbolicLink()) {
    obs.kind = "symlink";
    try {
      obs.linkTarget = fs.readlinkSync(p);
    } catch {
      obs.linkTarget = "?";
    }
    return obs;
  } else if (st.isDirectory()) {
    obs.kind = "directory";
    obs.uid = st.uid;
    obs.gid = st.gid;
    obs.mode = st.mode & 0o7777;
    obs.empty = hasNoEntries(p);
    return obs;
  } else {
    obs.kind = "other";
    return obs;
  }
  // Missing: walk up to the first existing parent; it must be (or link to) a directory.
  for (let parent = path.dirname(p); ; parent = path.dirname(parent)) {
    const pst = lstatOrError(parent);
    if (pst instanceof Error) {
      if (!isMissing(pst)) {
        obs.blocked = pst.message;
        return obs;
      }
      obs.missingParents.unshift(parent);
      if (parent === "/") return obs;
      continue;
    }
    let target: fs.Stats;
    try {
      target = pst.isSymbolicLink() ? fs.statSync(parent) : pst;
    } catch {
      obs.blocked = `${parent} is a symbolic link to a missing target`;
      return obs;
    }
    if (!target.isDirectory())
      obs.blocked = `${parent} is ${pst.isSymbolicLink() ? "a symbolic link to " : ""}a file, not a directory`;
    return obs;
  }
}

/** chown and/or chmod of a directory, never following a symlink (O_NOFOLLOW on the last component). */
export function setDirOwnerMode(
  dir: string,
  uid: number | undefined,
  gid: number | undefined,
  mode: number | undefined,
): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    if (uid !== undefined || gid !== undefined) fs.fchownSync(fd, uid ?? -1, gid ?? -1);
    if (mode !== undefined) fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
}

/** Is the path (not following a last symlink) an empty directory? Never true on a share root (roots). */
export function isEmptyDir(p: string, roots: ShareRoots = NO_ROOTS): boolean {
  if (onShare(kernelPathOf(p, roots), roots)) return false;
  const st = lstatOrError(p);
  return !(st instanceof Error) && st.isDirectory() && hasNoEntries(p);
}

/** Reads at most one entry (a mounted share root may hold millions). */
function hasNoEntries(dir: string): boolean {
  try {
    const d = fs.opendirSync(dir);
    try {
      return d.readSync() === null;
    } finally {
      d.closeSync();
    }
  } catch {
    return false;
  }
}
