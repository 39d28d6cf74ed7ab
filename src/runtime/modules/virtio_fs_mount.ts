/*
 * owner, group and mode (of a share, else default_owner/default_group/default_mode) belong to the
 * guest's mount point directory, not to the shared files:
 * - A missing mount point is created with them before mounting (missing parents root:root 0755);
 *   an existing mount point that is not mounted is corrected to them. create_mount_dirs: false
 *   ignores them, and a missing mount point then fails that share.
 * - A mounted share root shows the host directory's owner, group and mode (virtio-fs passes them
 *   through): the module never chowns or chmods it, rw or ro (on rw that would change the host
 *   directory, on ro it fails). Set them on the host directory instead.
 * - rw share: an unknown owner/group fails the share; once mounted, a root owned by someone else
 *   gives a warning, never a failure. ro share: ownership problems are only warnings.
 */
/*
 * Test hooks (see src/runtime/env-hooks.ts): VIRTIO_FS_ROOT prefixes /proc, /sys, /etc/passwd,
 * /etc/group and /etc/modules-load.d (never the fstab argument); VIRTIO_FS_BIN_DIR holds the mount,
 * umount, modprobe, systemctl and dmesg programs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Share, VirtioFsMountArgs } from "../../../generated/modules/types";
import { ModuleFailure, type ModuleContext, type ModuleResult } from "../ansible";
import { lookupGid, lookupUid, groupName, userName } from "../accounts";
import { backupFile, writeFileAtomic } from "../atomic-write";
import { systemPath } from "../env-hooks";
import { describeFailure, run } from "../exec";
import {
  appendFstabEntry, parseFstab, replaceFstabLine, sameFstabEntry, serialiseFstab, type Fstab, type FstabEntry,
} from "../fstab";
import {
  effectiveOptions, fsSpecificOptions, mountedVfsFlags, requestedVfsFlags, splitOptions,
  vfsFlagDifferences,
} from "../mount-options";
import { readMountInfo, topMountAt, type MountInfoEntry } from "../mountinfo";
import { shareProblems } from "../../input/check-shares";
import { dmesgTagNotFound, offeredTags, systemdIsPid1, virtiofsLoaded } from "../virtiofs-kernel";

type State = "mounted" | "present" | "unmounted" | "absent";

export interface Action {
  action: string;
  why: string;
}

export interface ShareResult {
  tag: string;
  mount_point: string;
  state: State;
  changed: boolean;
  actions: Action[];
  pruned?: boolean;
  failed?: boolean;
  msg?: string;
}

/** A failure of one share; the others are still applied. */
class ShareFailure extends Error {}

const MODULES_LOAD_FILE = "/etc/modules-load.d/virtiofs.conf";

function parseMode(mode: string): number {
  return parseInt(mode, 8) & 0o7777;
}

function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

class MountRun {
  readonly check: boolean;
  readonly results: ShareResult[] = [];
  mountinfo: MountInfoEntry[];
  readonly fstab: Fstab;
  readonly tags: string[] | null;

  constructor(readonly args: Required<Omit<VirtioFsMountArgs, "mounts">> & { mounts: Share[] }, readonly ctx: ModuleContext, fstabText: string) {
    this.check = ctx.checkMode;
    this.mountinfo = readMountInfo();
    this.fstab = parseFstab(fstabText);
    this.tags = offeredTags();
  }

  refreshMountInfo(): void {
    if (!this.check) this.mountinfo = readMountInfo();
  }

  // ---- external programs -------------------------------------------------------------------------

  mount(share: Share, options: string[]): void {
    const r = run("mount", ["-t", "virtiofs", "-o", options.join(","), share.tag, share.mount_point]);
    if (r.rc !== 0) throw new ShareFailure(this.mountFailure(share, describeFailure(r), r.stderr + r.stdout));
  }

  mountFailure(share: Share, what: string, output: string): string {
    if (/unknown filesystem type/i.test(output)) {
      return `mounting ${share.tag} on ${share.mount_point} failed: the kernel does not know the virtiofs file system (${what}). `
        + `Load the virtiofs kernel module (load_module: true), or install the kernel package that provides it for the running kernel ${os.release()} `
        + `(Debian: linux-image-${os.release()}).`;
    }
    const notListed = this.tags !== null && !this.tags.includes(share.tag);
    if (notListed || /wrong fs type|does not exist|no such file or directory|no such device/i.test(output)) {
      return this.tagNotOffered(share, what);
    }
    return `mounting ${share.tag} on ${share.mount_point} failed: ${what}`;
  }

  tagNotOffered(share: Share, what?: string): string {
    const dmesg = this.check ? undefined : dmesgTagNotFound(share.tag);
    const offered = this.tags === null ? "" : ` The VM offers: ${this.tags.length ? this.tags.join(", ") : "no virtio-fs tags at all"}.`;
    return `virtio-fs tag "${share.tag}" is not offered by this VM${what ? ` (${what})` : ""}.`
      + `${dmesg ? ` dmesg: ${dmesg}.` : ""}${offered} The libvirt domain XML is missing a <filesystem type='mount'> device `
      + `with <driver type='virtiofs'/> and <target dir='${share.tag}'/> (add it with the virtio_fs_domain module or the host role, `
      + `with shared memoryBacking) and restart the VM.`;
  }

  umount(mp: string): void {
    const r = run("umount", [mp]);
    if (r.rc === 0) return;
    const out = r.stderr + r.stdout;
    if (/busy/i.test(out)) {
      throw new ShareFailure(`cannot unmount ${mp}: the mount point is busy (${describeFailure(r)}). `
        + `Find the processes using it with \`fuser -vm ${mp}\` (or \`lsof +f -- ${mp}\`), stop them and retry.`);
    }
    throw new ShareFailure(`cannot unmount ${mp}: ${describeFailure(r)}`);
  }

  // ---- mount point directory ---------------------------------------------------------------------

  /**
   * uid/gid/mode a mount point should have. An unknown user or group fails a rw share; for a
   * read-only share it is a warning and the ids are left out (never fail a ro share over ownership).
   */
  wantedOwnership(share: Share): { uid?: number; gid?: number; mode: number; label: string } {
    const owner = share.owner ?? this.args.default_owner;
    const group = share.group ?? this.args.default_group;
    const mode = parseMode(share.mode ?? this.args.default_mode);
    const uid = lookupUid(owner);
    const gid = lookupGid(group);
    const problems: string[] = [];
    if (uid === undefined) problems.push(`user "${owner}" does not exist in /etc/passwd (set owner/default_owner to an existing user or create it first)`);
    if (gid === undefined) problems.push(`group "${group}" does not exist in /etc/group (set group/default_group to an existing group or create it first)`);
    if (problems.length > 0) {
      const msg = `mount point ${share.mount_point}: ${problems.join("; ")}`;
      if (!share.readonly) throw new ShareFailure(msg);
      this.ctx.warn(`${msg}; read-only share ${share.tag}: its mount point keeps its current owner`);
    }
    return { uid, gid, mode, label: `${uid === undefined ? "(unchanged)" : owner}:${gid === undefined ? "(unchanged)" : group} ${octal(mode)}` };
  }

  chownDir(share: Share, uid: number | undefined, gid: number | undefined): void {
    if (uid === undefined && gid === undefined) return;
    try {
      fs.chownSync(share.mount_point, uid ?? -1, gid ?? -1);
    } catch (e) {
      const msg = `cannot chown mount point ${share.mount_point}: ${(e as Error).message}`;
      if (!share.readonly) throw new ShareFailure(msg);
      this.ctx.warn(`${msg} (read-only share ${share.tag}: ignored)`);
    }
  }

  /** Creates or corrects the (unmounted) mount point directory; returns the directories it created. */
  ensureDir(share: Share, actions: Action[]): string[] {
    const mp = share.mount_point;
    const st = statOrUndefined(mp);
    if (st && !st.isDirectory()) throw new ShareFailure(`mount point ${mp} exists and is not a directory`);
    if (!this.args.create_mount_dirs) {
      if (!st) throw new ShareFailure(`mount point ${mp} does not exist and create_mount_dirs is false; create it or set create_mount_dirs: true`);
      return [];
    }
    const want = this.wantedOwnership(share);
    if (!st) {
      const missing: string[] = [];
      for (let p = path.dirname(mp); !statOrUndefined(p); p = path.dirname(p)) missing.unshift(p);
      for (const parent of missing) {
        actions.push({ action: "create_parent_dir", why: `${parent} is missing; created root-owned with mode 0755` });
        if (!this.check) {
          fs.mkdirSync(parent, 0o755);
          fs.chmodSync(parent, 0o755);
          if (process.getuid?.() === 0) fs.chownSync(parent, 0, 0);
        }
      }
      actions.push({ action: "create_dir", why: `mount point is missing; created as ${want.label}` });
      if (!this.check) {
        fs.mkdirSync(mp, want.mode);
        this.chownDir(share, want.uid, want.gid);
        fs.chmodSync(mp, want.mode);
      }
      return [...missing, mp];
    }
    const uidWrong = want.uid !== undefined && st.uid !== want.uid;
    const gidWrong = want.gid !== undefined && st.gid !== want.gid;
    if (uidWrong || gidWrong) {
      actions.push({ action: "chown", why: `mount point is ${userName(st.uid)}:${groupName(st.gid)}, wanted ${want.label.split(" ")[0]}` });
      if (!this.check) this.chownDir(share, want.uid, want.gid);
    }
    if ((st.mode & 0o7777) !== want.mode) {
      actions.push({ action: "chmod", why: `mount point mode is ${octal(st.mode & 0o7777)}, wanted ${octal(want.mode)}` });
      if (!this.check) fs.chmodSync(mp, want.mode);
    }
    return [];
  }

  /** Warns when a mounted rw share root is not owned as configured (never changes it). */
  warnOwnership(share: Share): void {
    if (share.readonly || this.check) return;
    const owner = share.owner ?? this.args.default_owner;
    const group = share.group ?? this.args.default_group;
    const uid = lookupUid(owner);
    const gid = lookupGid(group);
    const st = statOrUndefined(share.mount_point);
    if (!st || uid === undefined || gid === undefined) return;
    if (st.uid !== uid || st.gid !== gid) {
      this.ctx.warn(`share ${share.tag} is mounted on ${share.mount_point} as ${userName(st.uid)}:${groupName(st.gid)} (the host directory's owner, `
        + `which virtio-fs passes through), not ${owner}:${group}; the module does not chown a mounted share, change the host directory instead`);
    }
  }

  // ---- fstab ------------------------------------------------------------------------------------

  fstabLinesAt(mp: string): number[] {
    const out: number[] = [];
    this.fstab.lines.forEach((l, i) => {
      if (l.entry && l.entry.file === mp) out.push(i);
    });
    return out;
  }

  /** Fails when a non-virtiofs fstab line or mount already owns the mount point. */
  checkConflicts(share: Share, top: MountInfoEntry | undefined): void {
    for (const i of this.fstabLinesAt(share.mount_point)) {
      const e = this.fstab.lines[i].entry!;
      if (e.vfstype !== "virtiofs") {
        throw new ShareFailure(`${share.mount_point} already has a ${e.vfstype} line in fstab (line ${i + 1}: ${this.fstab.lines[i].raw.trim()}); `
          + `remove that line or choose another mount_point for ${share.tag}`);
      }
    }
    if (top && top.fstype !== "virtiofs" && (share.state ?? "mounted") === "mounted" && this.args.perform_mounts) {
      throw new ShareFailure(`${share.mount_point} is already the mount point of a ${top.fstype} file system (${top.source}); unmount it or choose another mount_point for ${share.tag}`);
    }
  }

  ensureFstabLine(share: Share, options: string[], actions: Action[]): void {
    const want: FstabEntry = { spec: share.tag, file: share.mount_point, vfstype: "virtiofs", mntops: options.join(","), freq: "0", passno: "0" };
    const lines = this.fstabLinesAt(share.mount_point);
    if (lines.length === 0) {
      appendFstabEntry(this.fstab, want);
      actions.push({ action: "fstab_add", why: `no fstab line for ${share.mount_point}` });
      return;
    }
    const [first, ...dups] = lines;
    const have = this.fstab.lines[first].entry!;
    if (!sameFstabEntry(have, want)) {
      const what = have.spec !== want.spec ? `tag ${have.spec}` : have.mntops !== want.mntops ? `options ${have.mntops}` : "dump/pass fields";
      replaceFstabLine(this.fstab, first, want);
      actions.push({ action: "fstab_update", why: `fstab line had ${what}, wanted ${want.spec} with ${want.mntops}` });
    }
    for (const i of dups.reverse()) {
      this.fstab.lines.splice(i, 1);
      actions.push({ action: "fstab_remove", why: `duplicate fstab line for ${share.mount_point}` });
    }
  }

  removeFstabLines(mp: string, actions: Action[]): void {
    for (const i of this.fstabLinesAt(mp).reverse()) {
      if (this.fstab.lines[i].entry!.vfstype !== "virtiofs") continue;
      this.fstab.lines.splice(i, 1);
      actions.push({ action: "fstab_remove", why: "share is absent" });
    }
  }

  // ---- states -----------------------------------------------------------------------------------

  /** Options the existing fstab line asked for, the reference for file-system specific options. */
  fstabOptionsFor(share: Share): string[] | undefined {
    const i = this.fstabLinesAt(share.mount_point).find((n) => this.fstab.lines[n].entry!.vfstype === "virtiofs" && this.fstab.lines[n].entry!.spec === share.tag);
    return i === undefined ? undefined : splitOptions(this.fstab.lines[i].entry!.mntops);
  }

  /**
   * Why the mounted share must be remounted, or undefined when it already has the options. VFS flags
   * (ro/rw, nosuid, nodev, noexec, atime, ...) are compared with mountinfo. File-system specific
   * options are not reliably shown by the kernel, so they are compared with the share's existing fstab
   * line (the options it was last mounted with); without persist or a line they are not compared.
   */
  remountReason(share: Share, options: string[], top: MountInfoEntry): string | undefined {
    const diffs = vfsFlagDifferences(requestedVfsFlags(options), mountedVfsFlags(top.mountOptions));
    if (diffs.length > 0) {
      return `mounted with ${top.mountOptions.join(",")}, wanted ${options.join(",")} (differs in ${diffs.join(", ")})`;
    }
    if (this.args.persist) {
      const before = this.fstabOptionsFor(share);
      if (before) {
        const a = fsSpecificOptions(before).join(",");
        const b = fsSpecificOptions(options).join(",");
        if (a !== b) return `file-system options changed from "${a}" to "${b}"`;
      }
    }
    return undefined;
  }

  applyMounted(share: Share, options: string[], actions: Action[]): void {
    const mp = share.mount_point;
    const top = topMountAt(this.mountinfo, mp);
    this.checkConflicts(share, top);
    const ours = top && top.fstype === "virtiofs" && top.source === share.tag;
    if (!ours) {
      if (this.tags !== null && !this.tags.includes(share.tag)) throw new ShareFailure(this.tagNotOffered(share));
      if (top && top.fstype === "virtiofs") {
        actions.push({ action: "umount", why: `${mp} has virtio-fs tag ${top.source} mounted, wanted ${share.tag}` });
        if (!this.check) this.umount(mp);
        this.refreshMountInfo();
      }
      const created = this.ensureDir(share, actions);
      actions.push({ action: "mount", why: `not mounted; mounting with ${options.join(",")}` });
      if (!this.check) {
        try {
          this.mount(share, options);
        } catch (e) {
          const removed = removeEmptyDirs(created);
          if (removed.length) actions.push({ action: "rmdir", why: `the mount failed; removed what this run created: ${removed.join(", ")}` });
          throw e;
        }
      }
    } else {
      const reason = this.remountReason(share, options, top);
      if (reason) {
        actions.push({ action: "remount", why: reason });
        if (!this.check) this.remount(share, options, actions);
      }
    }
    this.refreshMountInfo();
    this.warnOwnership(share);
    if (this.args.persist) this.ensureFstabLine(share, options, actions);
  }

  remount(share: Share, options: string[], actions: Action[]): void {
    const mp = share.mount_point;
    const r = run("mount", ["-o", ["remount", ...options].join(","), mp]);
    let why: string | undefined;
    if (r.rc !== 0) why = `the kernel refused the remount (${describeFailure(r)})`;
    else {
      this.refreshMountInfo();
      const top = topMountAt(this.mountinfo, mp);
      const diffs = top ? vfsFlagDifferences(requestedVfsFlags(options), mountedVfsFlags(top.mountOptions)) : ["not mounted"];
      if (diffs.length > 0) why = `the remount did not apply ${diffs.join(", ")}`;
    }
    if (!why) return;
    actions.push({ action: "umount", why: `${why}; unmounting to mount again` });
    this.umount(mp);
    actions.push({ action: "mount", why: `mounting again with ${options.join(",")}` });
    this.mount(share, options);
  }

  applyPresent(share: Share, options: string[], actions: Action[]): void {
    const top = topMountAt(this.mountinfo, share.mount_point);
    this.checkConflicts(share, top);
    if (!top) this.ensureDir(share, actions);
    else if (top.fstype === "virtiofs" && top.source === share.tag) this.warnOwnership(share);
    if (this.args.persist) this.ensureFstabLine(share, options, actions);
  }

  /** Unmounts every virtio-fs mount of the tag (any tag when tag is undefined) stacked on mp. */
  unmountAll(mp: string, tag: string | undefined, why: string, actions: Action[]): boolean {
    let did = false;
    for (let guard = 0; guard < 16; guard++) {
      const top = topMountAt(this.mountinfo, mp);
      if (!top || top.fstype !== "virtiofs" || (tag !== undefined && top.source !== tag)) break;
      actions.push({ action: "umount", why });
      did = true;
      if (this.check) break;
      this.umount(mp);
      this.refreshMountInfo();
    }
    return did;
  }

  applyUnmounted(share: Share, actions: Action[]): void {
    if (this.args.perform_mounts) this.unmountAll(share.mount_point, share.tag, "state is unmounted", actions);
  }

  applyAbsent(mp: string, tag: string | undefined, why: string, actions: Action[]): void {
    let predictedUnmount = false;
    if (this.args.perform_mounts) predictedUnmount = this.unmountAll(mp, tag, why, actions) && this.check;
    if (this.args.persist) this.removeFstabLines(mp, actions);
    const ours = (e: MountInfoEntry) => e.fstype === "virtiofs" && (tag === undefined || e.source === tag);
    const remaining = this.mountinfo.filter((e) => e.mountPoint === mp && !(predictedUnmount && ours(e)));
    if (remaining.length > 0) return;
    if (predictedUnmount) {
      actions.push({ action: "rmdir", why: "the mount point will be removed if it is empty once unmounted" });
      return;
    }
    const st = statOrUndefined(mp);
    if (st && st.isDirectory() && fs.readdirSync(mp).length === 0) {
      actions.push({ action: "rmdir", why: "empty mount point of an absent share" });
      if (!this.check) fs.rmdirSync(mp);
    }
  }
}

/**
 * After a failed mount, removes the (still empty) directories this run created for the share, deepest
 * first, so a share that could not be mounted leaves nothing for the operator to clean up.
 */
function removeEmptyDirs(created: string[]): string[] {
  const removed: string[] = [];
  for (const dir of [...created].reverse()) {
    try {
      fs.rmdirSync(dir);
      removed.push(dir);
    } catch {
      break; // not empty any more: what is left is someone else's
    }
  }
  return removed;
}

function ensureKernelModule(args: { load_module: boolean; perform_mounts: boolean }, ctx: ModuleContext): Action[] {
  const actions: Action[] = [];
  if (!args.load_module) return actions;
  if (!virtiofsLoaded()) {
    actions.push({ action: "modprobe", why: "the virtiofs kernel module is not loaded" });
    if (!ctx.checkMode) {
      const r = run("modprobe", ["virtiofs"]);
      if (r.rc !== 0) {
        const msg = `the virtiofs kernel module is missing on this guest (${describeFailure(r)}). Install the kernel package that provides it for the `
          + `running kernel ${os.release()} (Debian: linux-image-${os.release()}; it is in fs/fuse/virtiofs.ko) or boot a kernel built with CONFIG_VIRTIO_FS.`;
        if (args.perform_mounts) throw new ModuleFailure(msg, { changed: false, kernel_module: { changed: false, actions } });
        actions.pop();
        ctx.warn(msg);
      }
    }
  }
  const conf = systemPath(MODULES_LOAD_FILE);
  let current: string | undefined;
  try {
    current = fs.readFileSync(conf, "utf8");
  } catch {
    current = undefined;
  }
  if (current !== "virtiofs\n") {
    actions.push({ action: "modules_load", why: `${MODULES_LOAD_FILE} ${current === undefined ? "is missing" : "does not contain exactly virtiofs"}; written so the module loads at boot` });
    if (!ctx.checkMode) {
      fs.mkdirSync(path.dirname(conf), { recursive: true, mode: 0o755 });
      writeFileAtomic(conf, "virtiofs\n", 0o644);
    }
  }
  return actions;
}

export async function main(input: VirtioFsMountArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const args = {
    default_owner: "admin", default_group: "admin", default_mode: "0755", default_options: "rw,relatime,nofail",
    create_mount_dirs: true, persist: true, perform_mounts: true, load_module: true, prune: false, fstab: "/etc/fstab", backup: false,
    ...input,
  };
  const problems = shareProblems(args.mounts, "/mounts", false);
  if (problems.length > 0) throw new ModuleFailure(`invalid arguments: ${problems.join("; ")}`);

  const moduleActions = ensureKernelModule(args, ctx);

  let fstabText = "";
  let fstabExists = true;
  try {
    fstabText = fs.readFileSync(args.fstab, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new ModuleFailure(`cannot read ${args.fstab}: ${(e as Error).message}`);
    fstabExists = false;
  }
  let runner: MountRun;
  try {
    runner = new MountRun(args, ctx, fstabText);
  } catch (e) {
    throw new ModuleFailure(`cannot read the mount table ${systemPath("/proc/self/mountinfo")}: ${(e as Error).message}`);
  }

  type Job = { share?: Share; result: ShareResult; options: string[] };
  const jobs: Job[] = args.mounts.map((share) => {
    const requested = (share.state ?? "mounted") as State;
    const state: State = requested === "mounted" && !args.perform_mounts ? "present" : requested;
    return {
      share,
      options: effectiveOptions(share.options, args.default_options, share.readonly ?? false),
      result: { tag: share.tag, mount_point: share.mount_point, state, changed: false, actions: [] },
    };
  });

  if (args.prune) {
    const wanted = new Set(args.mounts.map((s) => s.mount_point));
    const extra = new Map<string, string>();
    for (const l of runner.fstab.lines) {
      if (l.entry && l.entry.vfstype === "virtiofs" && !wanted.has(l.entry.file)) extra.set(l.entry.file, l.entry.spec);
    }
    for (const m of runner.mountinfo) {
      if (m.fstype === "virtiofs" && m.mountPoint !== "/" && !wanted.has(m.mountPoint) && !extra.has(m.mountPoint)) extra.set(m.mountPoint, m.source);
    }
    for (const [mp, tag] of extra) {
      jobs.push({ options: [], result: { tag, mount_point: mp, state: "absent", changed: false, actions: [], pruned: true } });
    }
  }

  // Unmounting first (deepest first), then mounting (shallowest first).
  const removing = (j: Job) => j.result.state === "absent" || j.result.state === "unmounted";
  const depth = (j: Job) => j.result.mount_point.split("/").length;
  const order = [
    ...jobs.filter(removing).sort((a, b) => depth(b) - depth(a)),
    ...jobs.filter((j) => !removing(j)).sort((a, b) => depth(a) - depth(b)),
  ];
  const failures: string[] = [];
  for (const job of order) {
    const r = job.result;
    try {
      if (job.share === undefined) runner.applyAbsent(r.mount_point, undefined, "not in mounts and prune is true", r.actions);
      else if (r.state === "mounted") runner.applyMounted(job.share, job.options, r.actions);
      else if (r.state === "present") runner.applyPresent(job.share, job.options, r.actions);
      else if (r.state === "unmounted") runner.applyUnmounted(job.share, r.actions);
      else runner.applyAbsent(r.mount_point, job.share.tag, "state is absent", r.actions);
    } catch (e) {
      if (!(e instanceof ShareFailure)) throw e;
      r.failed = true;
      r.msg = e.message;
      failures.push(`${r.tag} (${r.mount_point}): ${e.message}`);
    }
    r.changed = r.actions.length > 0;
  }

  for (const s of args.mounts) {
    if (args.prune || !args.persist) break;
    const elsewhere = runner.fstab.lines.find((l) => l.entry && l.entry.vfstype === "virtiofs" && l.entry.spec === s.tag && l.entry.file !== s.mount_point);
    if (elsewhere) ctx.warn(`fstab also mounts tag ${s.tag} on ${elsewhere.entry!.file}; remove that line or use prune: true`);
  }

  const after = serialiseFstab(runner.fstab);
  const fstabChanged = after !== fstabText;
  let backup: string | undefined;
  let daemonReloaded = false;
  if (fstabChanged && !ctx.checkMode) {
    if (args.backup && fstabExists) backup = backupFile(args.fstab);
    writeFileAtomic(args.fstab, after, 0o644);
    if (systemdIsPid1()) {
      const r = run("systemctl", ["daemon-reload"]);
      if (r.rc === 0) daemonReloaded = true;
      else ctx.warn(`fstab changed but systemctl daemon-reload failed: ${describeFailure(r)}; run it by hand before the next reboot`);
    }
  }

  const results = jobs.map((j) => j.result);
  const changed = fstabChanged || moduleActions.length > 0 || results.some((r) => r.changed);
  const result: ModuleResult = {
    changed,
    mounts: results,
    fstab_changed: fstabChanged,
    kernel_module: { changed: moduleActions.length > 0, actions: moduleActions },
    daemon_reloaded: daemonReloaded,
  };
  if (backup) result.backup_file = backup;
  if (ctx.diff) {
    result.diff = { before: fstabText, after, before_header: `${args.fstab} (before)`, after_header: `${args.fstab} (after)` };
  }
  if (failures.length > 0) {
    throw new ModuleFailure(failures.length === 1 ? failures[0] : `${failures.length} shares failed: ${failures.join(" | ")}`, result);
  }
  result.msg = changed ? summary(results, fstabChanged) : "all virtio-fs shares are as configured";
  return result;
}

function summary(results: ShareResult[], fstabChanged: boolean): string {
  const changedShares = results.filter((r) => r.changed).map((r) => r.tag);
  const parts: string[] = [];
  if (changedShares.length) parts.push(`changed: ${changedShares.join(", ")}`);
  if (fstabChanged) parts.push("fstab updated");
  return parts.length ? parts.join("; ") : "virtiofs kernel module configured";
}
