/**
 * The plan of virtio_fs_mount: desired state of one share + what was observed -> the list of steps
 * that bring it there. Pure: no file system access, no programs; every observation (mountinfo,
 * fstab, the mount point path, user and group ids) is passed in. Check mode reports exactly this
 * list; a real run executes it (modules/virtio_fs_mount.ts), re-planning a share only after one of
 * its unmounts, which reveals the directory underneath.
 *
 * Paths: mounts are found by the mount point's kernel path (mount-point.ts), fstab lines by the
 * kernel path of their normalised path, so `/mnt/data/`, `/mnt//data`, `/mnt/./data`, `/mnt/data`
 * and a spelling through a symlinked parent are one mount point.
 */
import type { FstabEntry, FstabLine, Fstab } from "./fstab";
import { sameFstabEntry } from "./fstab";
import {
  fsSpecificOptions,
  mountedVfsFlags,
  requestedVfsFlags,
  splitOptions,
  vfsFlagDifferences,
} from "./mount-options";
import type { MountInfoEntry } from "./mountinfo";
import { topMountAt } from "./mountinfo";
import type { PathObservation } from "./mount-point";

export type State = "mounted" | "present" | "unmounted" | "absent";

/** What a share result lists: one entry per step taken (or, in check mode, planned). */
export interface Action {
  action: string;
  why: string;
  /** The step was attempted and failed (the share's msg says why). */
  failed?: boolean;
}

export type Step =
  | { action: "umount"; why: string }
  | { action: "create_parent_dir"; why: string; path: string }
  | { action: "create_dir"; why: string; uid?: number; gid?: number; mode: number; tolerant: boolean }
  | { action: "chown"; why: string; uid?: number; gid?: number; tolerant: boolean }
  | { action: "chmod"; why: string; mode: number }
  | { action: "mount"; why: string; options: string[] }
  | { action: "remount"; why: string; options: string[] }
  | { action: "fstab_add"; why: string; entry: FstabEntry }
  | { action: "fstab_update"; why: string; line: FstabLine; entry: FstabEntry }
  | { action: "fstab_remove"; why: string; line: FstabLine }
  | { action: "rmdir"; why: string };

export interface Desired {
  /** undefined for a pruned mount point: any tag. */
  tag: string | undefined;
  /** As configured (written to fstab, shown in results). */
  mountPoint: string;
  state: State;
  options: string[];
  readonly: boolean;
  owner: string;
  group: string;
  /** Looked up ids; undefined when the user/group does not exist. */
  uid?: number;
  gid?: number;
  mode: number;
  /** Why an absent share is removed (state absent, or prune). */
  absentWhy: string;
}

export interface Observed {
  mountinfo: MountInfoEntry[];
  fstab: Fstab;
  /** Kernel path of an fstab line's mount point (undefined for comments). */
  fstabKey(line: FstabLine): string | undefined;
  /** 1-based line number in the file as read (for messages). */
  lineNumber(line: FstabLine): number;
  /** Tags the VM offers, null when the kernel does not list them. */
  tags: string[] | null;
  point: PathObservation;
  /** "user:group" for ids (for messages). */
  ownerLabel(uid: number, gid: number): string;
}

export interface Settings {
  create_mount_dirs: boolean;
  persist: boolean;
  perform_mounts: boolean;
}

export type PlanFailure = { kind: "tag_not_offered" } | { kind: "message"; msg: string };

export interface Plan {
  steps: Step[];
  warnings: string[];
  failure?: PlanFailure;
}

class Refused extends Error {
  constructor(readonly failure: PlanFailure) {
    super(failure.kind === "message" ? failure.msg : failure.kind);
  }
}

const refuse = (msg: string): never => {
  throw new Refused({ kind: "message", msg });
};

function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}

/** The fstab lines whose mount point is this share's (any file system type). */
function fstabLinesAt(o: Observed): FstabLine[] {
  return o.fstab.lines.filter((l) => l.entry !== undefined && o.fstabKey(l) === o.point.kernelPath);
}

function fstabEntryFor(d: Desired): FstabEntry {
  return {
    spec: d.tag ?? "",
    file: d.mountPoint,
    vfstype: "virtiofs",
    mntops: d.options.join(","),
    freq: "0",
    passno: "0",
  };
}

/** The warning for a mounted rw share whose root (the host directory) is not owned as configured. */
export function mountedOwnerWarning(
  d: Desired,
  st: { uid?: number; gid?: number },
  ownerLabel: (uid: number, gid: number) => string,
): string | undefined {
  if (d.readonly || d.uid === undefined || d.gid === undefined || st.uid === undefined || st.gid === undefined)
    return undefined;
  if (st.uid === d.uid && st.gid === d.gid) return undefined;
  return (
    `share ${d.tag} is mounted on ${d.mountPoint} as ${ownerLabel(st.uid, st.gid)} (the host directory's owner, ` +
    `which virtio-fs passes through), not ${d.owner}:${d.group}; the module does not chown a mounted share, change the host directory instead`
  );
}

export function planShare(d: Desired, o: Observed, s: Settings): Plan {
  const plan: Plan = { steps: [], warnings: [] };
  try {
    if (d.state === "mounted") planMounted(d, o, s, plan);
    else if (d.state === "present") planPresent(d, o, s, plan);
    else if (d.state === "unmounted") planUnmount(d, o, s, "state is unmounted", plan);
    else planAbsent(d, o, s, plan);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    plan.failure = e.failure;
  }
  return plan;
}

function refuseSymlink(d: Desired, o: Observed): void {
  if (o.point.kind !== "symlink") return;
  refuse(
    `mount point ${d.mountPoint} is a symbolic link (to ${o.point.linkTarget}); the module does not mount on, chown or chmod ` +
      `the target of a link: set mount_point to the real directory (${o.point.kernelPath}) or remove the link`,
  );
}

/** Fails when a non-virtiofs fstab line or mount already owns the mount point. */
function refuseConflicts(d: Desired, o: Observed, top: MountInfoEntry | undefined, s: Settings): void {
  for (const l of fstabLinesAt(o)) {
    if (l.entry!.vfstype === "virtiofs") continue;
    refuse(
      `${d.mountPoint} already has a ${l.entry!.vfstype} line in fstab (line ${o.lineNumber(l)}: ${l.raw.trim()}); ` +
        `remove that line or choose another mount_point for ${d.tag}`,
    );
  }
  if (top && top.fstype !== "virtiofs" && d.state === "mounted" && s.perform_mounts) {
    refuse(
      `${d.mountPoint} is already the mount point of a ${top.fstype} file system (${top.source}); unmount it or choose another mount_point for ${d.tag}`,
    );
  }
}

/** A path that can never be a mount point directory (checked before the tag: it is the more basic fault). */
function refuseUnusablePath(d: Desired, o: Observed): void {
  if (o.point.kind === "other") refuse(`mount point ${d.mountPoint} exists and is not a directory`);
  if (o.point.blocked) refuse(`mount point ${d.mountPoint} cannot be created: ${o.point.blocked}`);
}

/** Steps that create or correct the (unmounted) mount point directory. */
function planDir(d: Desired, o: Observed, s: Settings, plan: Plan): void {
  const p = o.point;
  const mp = d.mountPoint;
  refuseUnusablePath(d, o);
  if (!s.create_mount_dirs) {
    if (p.kind === "missing")
      refuse(
        `mount point ${mp} does not exist and create_mount_dirs is false; create it or set create_mount_dirs: true`,
      );
    return;
  }
  const problems: string[] = [];
  if (d.uid === undefined)
    problems.push(
      `user "${d.owner}" is unknown to NSS (\`getent passwd\`: /etc/passwd, LDAP, SSSD) (set owner/default_owner to an existing user or create it first)`,
    );
  if (d.gid === undefined)
    problems.push(
      `group "${d.group}" is unknown to NSS (\`getent group\`) (set group/default_group to an existing group or create it first)`,
    );
  if (problems.length > 0) {
    const msg = `mount point ${mp}: ${problems.join("; ")}`;
    if (!d.readonly) refuse(msg);
    plan.warnings.push(`${msg}; read-only share ${d.tag}: its mount point keeps its current owner`);
  }
  const label = `${d.uid === undefined ? "(unchanged)" : d.owner}:${d.gid === undefined ? "(unchanged)" : d.group}`;
  if (p.kind === "missing") {
    for (const parent of p.missingParents) {
      plan.steps.push({
        action: "create_parent_dir",
        why: `${parent} is missing; created root-owned with mode 0755`,
        path: parent,
      });
    }
    plan.steps.push({
      action: "create_dir",
      why: `mount point is missing; created as ${label} ${octal(d.mode)}`,
      uid: d.uid,
      gid: d.gid,
      mode: d.mode,
      tolerant: d.readonly,
    });
    return;
  }
  const uidWrong = d.uid !== undefined && p.uid !== d.uid;
  const gidWrong = d.gid !== undefined && p.gid !== d.gid;
  if (uidWrong || gidWrong) {
    plan.steps.push({
      action: "chown",
      why: `mount point is ${o.ownerLabel(p.uid!, p.gid!)}, wanted ${label}`,
      uid: d.uid,
      gid: d.gid,
      tolerant: d.readonly,
    });
  }
  if (p.mode !== d.mode)
    plan.steps.push({
      action: "chmod",
      why: `mount point mode is ${octal(p.mode!)}, wanted ${octal(d.mode)}`,
      mode: d.mode,
    });
}

/** The share's fstab line: added, rewritten to the canonical form, duplicates removed. */
function planFstabLine(d: Desired, o: Observed, plan: Plan): void {
  const want = fstabEntryFor(d);
  const lines = fstabLinesAt(o);
  if (lines.length === 0) {
    plan.steps.push({ action: "fstab_add", why: `no fstab line for ${d.mountPoint}`, entry: want });
    return;
  }
  const [first, ...dups] = lines;
  const have = first.entry!;
  if (!sameFstabEntry(have, want)) {
    const what =
      have.spec !== want.spec
        ? `tag ${have.spec}`
        : have.file !== want.file
          ? `mount point spelled ${have.file}`
          : have.mntops !== want.mntops
            ? `options ${have.mntops}`
            : "dump/pass fields";
    plan.steps.push({
      action: "fstab_update",
      why: `fstab line had ${what}, wanted ${want.spec} with ${want.mntops}`,
      line: first,
      entry: want,
    });
  }
  for (const line of dups) {
    plan.steps.push({
      action: "fstab_remove",
      why: `duplicate fstab line for ${d.mountPoint} (line ${o.lineNumber(line)})`,
      line,
    });
  }
}

/**
 * Why the mounted share must be remounted, or undefined when it already has the options. VFS flags
 * are compared with mountinfo. File-system specific options are not reliably shown by the kernel, so
 * they are compared with the share's existing fstab line (the options it was last mounted with);
 * without persist or a line they are not compared.
 */
function remountReason(d: Desired, o: Observed, s: Settings, top: MountInfoEntry): string | undefined {
  const diffs = vfsFlagDifferences(requestedVfsFlags(d.options), mountedVfsFlags(top.mountOptions));
  if (diffs.length > 0) {
    return `mounted with ${top.mountOptions.join(",")}, wanted ${d.options.join(",")} (differs in ${diffs.join(", ")})`;
  }
  if (!s.persist) return undefined;
  const line = fstabLinesAt(o).find((l) => l.entry!.vfstype === "virtiofs" && l.entry!.spec === d.tag);
  if (!line) return undefined;
  const a = fsSpecificOptions(splitOptions(line.entry!.mntops)).join(",");
  const b = fsSpecificOptions(d.options).join(",");
  return a !== b ? `file-system options changed from "${a}" to "${b}"` : undefined;
}

function planMounted(d: Desired, o: Observed, s: Settings, plan: Plan): void {
  refuseSymlink(d, o);
  const top = topMountAt(o.mountinfo, o.point.kernelPath);
  refuseConflicts(d, o, top, s);
  const ours = top !== undefined && top.fstype === "virtiofs" && top.source === d.tag;
  if (!ours) {
    if (!top) refuseUnusablePath(d, o);
    if (o.tags !== null && !o.tags.includes(d.tag!)) throw new Refused({ kind: "tag_not_offered" });
    if (top && top.fstype === "virtiofs")
      plan.steps.push({
        action: "umount",
        why: `${d.mountPoint} has virtio-fs tag ${top.source} mounted, wanted ${d.tag}`,
      });
    planDir(d, o, s, plan);
    plan.steps.push({ action: "mount", why: `not mounted; mounting with ${d.options.join(",")}`, options: d.options });
  } else {
    const reason = remountReason(d, o, s, top);
    if (reason) plan.steps.push({ action: "remount", why: reason, options: d.options });
    else {
      const w = mountedOwnerWarning(d, o.point, o.ownerLabel);
      if (w) plan.warnings.push(w);
    }
  }
  if (s.persist) planFstabLine(d, o, plan);
}

function planPresent(d: Desired, o: Observed, s: Settings, plan: Plan): void {
  refuseSymlink(d, o);
  const top = topMountAt(o.mountinfo, o.point.kernelPath);
  refuseConflicts(d, o, top, s);
  if (!top) planDir(d, o, s, plan);
  else if (top.fstype === "virtiofs" && top.source === d.tag) {
    const w = mountedOwnerWarning(d, o.point, o.ownerLabel);
    if (w) plan.warnings.push(w);
  }
  if (s.persist) planFstabLine(d, o, plan);
}

/** One umount per virtio-fs mount of the tag (any tag for a pruned mount point) stacked on top. */
function stackedMounts(d: Desired, o: Observed): { ours: number; all: number } {
  const here = o.mountinfo.filter((e) => e.mountPoint === o.point.kernelPath);
  let ours = 0;
  for (let i = here.length - 1; i >= 0; i--) {
    const e = here[i];
    if (e.fstype !== "virtiofs" || (d.tag !== undefined && e.source !== d.tag)) break;
    ours++;
  }
  return { ours, all: here.length };
}

function planUnmount(d: Desired, o: Observed, s: Settings, why: string, plan: Plan): number {
  if (!s.perform_mounts) return 0;
  const { ours } = stackedMounts(d, o);
  for (let i = 0; i < ours; i++) plan.steps.push({ action: "umount", why });
  return ours;
}

function planAbsent(d: Desired, o: Observed, s: Settings, plan: Plan): void {
  const unmounts = planUnmount(d, o, s, d.absentWhy, plan);
  if (s.persist) {
    for (const line of fstabLinesAt(o)) {
      if (line.entry!.vfstype === "virtiofs") plan.steps.push({ action: "fstab_remove", why: "share is absent", line });
    }
  }
  if (stackedMounts(d, o).all - unmounts > 0) return;
  if (unmounts > 0)
    plan.steps.push({ action: "rmdir", why: "the mount point will be removed if it is empty once unmounted" });
  else if (o.point.kind === "directory" && o.point.empty)
    plan.steps.push({ action: "rmdir", why: "empty mount point of an absent share" });
}
