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
/*
 * Partial failure and paths (issue 9):
 * - Every share is planned (src/runtime/mount-plan.ts, pure) and then applied; any error of one
 *   share (a refused plan, a failing program, an fs exception) fails that share only. fstab is written
 *   once at the end with the edits of every share whose steps all succeeded, and the per-share results
 *   list each step taken (a failed one with failed: true), also in the failure result.
 * - When fstab cannot be written (backup, temp file or rename fails), every share this run mounted
 *   and whose fstab edit was lost is unmounted again (and the directories the run created removed);
 *   the failure names each share that stays mounted but not in fstab if that unmount fails.
 * - Mount points are compared with mountinfo by their kernel path (symlinked parents resolved once,
 *   src/runtime/mount-point.ts); a mount point that is itself a symlink is refused for mounted and
 *   present. fstab lines are matched by the kernel path of their normalised path, and fstab keeps
 *   the configured spelling.
 * - Every program gets `--` before its positional arguments: nothing from the arguments is an option.
 */
/*
 * Dead shares (issue 12): nothing here waits on a share without a deadline.
 * - Before anything looks at a mount point, every mounted virtio-fs share is probed
 *   (share-health.ts: a child process abandoned at health_timeout, or an earlier one still waiting). The
 *   module itself never stats, lstats, realpaths or reads a mounted share root (mount-point.ts
 *   ShareRoots); mount and umount run in children abandoned at the same deadline (exec.ts
 *   runWithDeadline), never through spawnSync, which waits for a killed child stuck in D.
 * - A share that does not answer fails with what to do on the host (destroy + start the domain):
 *   nothing in the guest can free it, as Linux has no abort for a virtio-fs connection and a request
 *   sent to the device waits for its answer even after SIGKILL (share-health.ts). A share whose
 *   device is gone (aborted: hot-unplugged or replaced by the host) fails too, and with recover: true
 *   is unmounted lazily and mounted again, which reaches the new device. A mount this run made that
 *   does not answer is detached again (umount -l).
 * - A share whose host directory is gone fails while mounted or present (unmounting it works).
 * - A busy unmount names the processes that hold the mount (mount-holders.ts).
 * - A probe that does not answer stays blocked in the kernel until the domain restarts, so a run
 *   probes each mount at most once (probe()), and a later run reuses a probe still waiting.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Share, VirtioFsMountArgs } from "../generated/types";
import { ModuleFailure, type ModuleContext, type ModuleResult } from "../ansible";
import { lookupGid, lookupUid, groupName, userName } from "../accounts";
import { backupFile, writeFileAtomic } from "../atomic-write";
import { systemPath } from "../env-hooks";
import { describeFailure, run, runWithDeadline } from "../exec";
import { describeHolders, mountHolders } from "../mount-holders";
import { checkShare, type ShareHealth } from "../share-health";
import {
  appendFstabEntry,
  normaliseMountPath,
  parseFstab,
  replaceFstabLine,
  serialiseFstab,
  type Fstab,
  type FstabLine,
} from "../fstab";
import {
  effectiveOptions,
  mountedVfsFlags,
  requestedVfsFlags,
  splitOptions,
  vfsFlagDifferences,
} from "../mount-options";
import {
  mountedOwnerWarning,
  planShare,
  type Action,
  type Desired,
  type Observed,
  type PlanFailure,
  type State,
  type Step,
} from "../mount-plan";
import { isEmptyDir, kernelPathOf, observePath, setDirOwnerMode } from "../mount-point";
import type { ProbedRoot } from "../share-health";
import { readMountInfo, topMountAt, type MountInfoEntry } from "../mountinfo";
import { refusedOperations, shareProblems } from "../check-shares";
import { message } from "../../errors/messages";
import { filled } from "../schema-defaults";
import { dmesgTagNotFound, offeredTags, systemdIsPid1, virtiofsLoaded } from "../virtiofs-kernel";

export type { Action } from "../mount-plan";

export interface ShareResult {
  tag: string;
  mount_point: string;
  state: State;
  changed: boolean;
  actions: Action[];
  pruned?: boolean;
  failed?: boolean;
  msg?: string;
  /** Set when the mounted share was found not ok (share-health.ts), with how that was determined. */
  health?: string;
  health_source?: string;
  /** Processes that held the mount when an unmount was refused as busy. */
  holders?: { pid: number; comm: string; uses: string[] }[];
}

/** A failure of one share, with a message written for the operator; the others are still applied. */
class ShareFailure extends Error {}

/** The arguments once the schema's validator has applied the defaults: every optional one is set. */
type MountArgs = Required<Omit<VirtioFsMountArgs, "mounts">> & { mounts: Share[] };

const MODULES_LOAD_FILE = "/etc/modules-load.d/virtiofs.conf";

/** What to do on the host about a share that does not answer. */
const HOST_ACTION = (tag: string) =>
  `On the host, the virtiofsd serving tag ${tag} is gone or hung: restart the domain with \`virsh destroy\` + \`virsh start\` ` +
  `(a reboot keeps the same QEMU process and does not restart virtiofsd), then run again.`;

function parseMode(mode: string): number {
  return parseInt(mode, 8) & 0o7777;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One share (or pruned mount point) and what this run did to it. */
interface Job {
  share?: Share;
  desired: Desired;
  result: ShareResult;
  /** Kernel path of the mount point when first observed. */
  kernelPath: string;
  /** This run mounted it (it was not mounted before): what a lost fstab write rolls back. */
  mountedHere: boolean;
  /** Directories this run created for it, shallowest first. */
  created: string[];
  /** This run edited its fstab line(s) in memory. */
  fstabEdited: boolean;
}

const isFstabStep = (s: Step) => s.action === "fstab_add" || s.action === "fstab_update" || s.action === "fstab_remove";

class MountRun {
  readonly check: boolean;
  readonly timeoutMs: number;
  mountinfo: MountInfoEntry[];
  /** Mounted virtio-fs share roots, never touched by this process (mount-point.ts ShareRoots). */
  readonly roots = new Map<string, ProbedRoot | undefined>();
  /** Health of each mounted virtio-fs share, by kernel mount point. */
  readonly health = new Map<string, ShareHealth>();
  readonly fstab: Fstab;
  readonly tags: string[] | null;
  /** Health per mount (device) probed this run: a probe may stay blocked, so one each. */
  private readonly probed = new Map<string, ShareHealth>();
  private readonly keys = new Map<FstabLine, string | undefined>();
  private readonly lineNumbers = new Map<FstabLine, number>();

  constructor(
    readonly args: MountArgs,
    readonly ctx: ModuleContext,
    fstabText: string,
  ) {
    this.check = ctx.checkMode;
    this.timeoutMs = args.health_timeout * 1000;
    this.mountinfo = readMountInfo();
    this.fstab = parseFstab(fstabText);
    this.fstab.lines.forEach((l, i) => this.lineNumbers.set(l, i + 1));
    this.tags = offeredTags();
  }

  /**
   * The health of a mounted share (share-health.ts), probing each mount at most once per run: a
   * probe that does not answer stays blocked until the domain restarts.
   */
  async probe(entry: MountInfoEntry): Promise<ShareHealth> {
    const known = this.probed.get(entry.device);
    if (known) return known;
    const h = await checkShare(entry, this.timeoutMs);
    this.probed.set(entry.device, h);
    return h;
  }

  refreshMountInfo(): void {
    if (!this.check) this.mountinfo = readMountInfo();
  }

  /** Probes every mounted virtio-fs share at once (before any mount point is looked at). */
  async probeShares(): Promise<void> {
    const tops = new Map<string, MountInfoEntry>();
    for (const e of this.mountinfo) if (e.mountPoint !== "/") tops.set(e.mountPoint, e);
    const shares = [...tops.values()].filter((e) => e.fstype === "virtiofs");
    for (const e of shares) this.roots.set(e.mountPoint, undefined);
    const health = await Promise.all(shares.map((e) => this.probe(e)));
    shares.forEach((e, i) => {
      this.health.set(e.mountPoint, health[i]);
      this.roots.set(e.mountPoint, health[i].root);
    });
  }

  fstabKey(line: FstabLine): string | undefined {
    if (!line.entry) return undefined;
    if (!this.keys.has(line)) this.keys.set(line, kernelPathOf(normaliseMountPath(line.entry.file), this.roots));
    return this.keys.get(line);
  }

  observe(job: Job): Observed {
    return {
      mountinfo: this.mountinfo,
      fstab: this.fstab,
      fstabKey: (l) => this.fstabKey(l),
      lineNumber: (l) => this.lineNumbers.get(l) ?? this.fstab.lines.indexOf(l) + 1,
      tags: this.tags,
      point: observePath(job.desired.mountPoint, this.roots),
      ownerLabel: (uid, gid) => `${userName(uid)}:${groupName(gid)}`,
    };
  }

  // ---- external programs -------------------------------------------------------------------------

  async mount(share: Share, options: string[]): Promise<void> {
    const r = await runWithDeadline(
      "mount",
      ["-t", "virtiofs", "-o", options.join(","), "--", share.tag, share.mount_point],
      this.timeoutMs,
    );
    if (r.timedOut)
      throw new ShareFailure(
        `mounting ${share.tag} on ${share.mount_point} did not return within ${this.args.health_timeout}s (health_timeout): ` +
          `${HOST_ACTION(share.tag)}`,
      );
    if (r.rc !== 0) throw new ShareFailure(this.mountFailure(share, describeFailure(r), r.stderr + r.stdout));
  }

  mountFailure(share: Share, what: string, output: string): string {
    if (/unknown filesystem type/i.test(output)) {
      return (
        `mounting ${share.tag} on ${share.mount_point} failed: the kernel does not know the virtiofs file system (${what}). ` +
        `Load the virtiofs kernel module (load_module: true), or install the kernel package that provides it for the running kernel ${os.release()} ` +
        `(Debian: linux-image-${os.release()}).`
      );
    }
    const notListed = this.tags !== null && !this.tags.includes(share.tag);
    if (notListed || /wrong fs type|does not exist|no such file or directory|no such device/i.test(output)) {
      return this.tagNotOffered(share, what);
    }
    return `mounting ${share.tag} on ${share.mount_point} failed: ${what}`;
  }

  tagNotOffered(share: Share, what?: string): string {
    const dmesg = this.check ? undefined : dmesgTagNotFound(share.tag);
    const offered =
      this.tags === null
        ? ""
        : ` The VM offers: ${this.tags.length ? this.tags.join(", ") : "no virtio-fs tags at all"}.`;
    return (
      `virtio-fs tag "${share.tag}" is not offered by this VM${what ? ` (${what})` : ""}.` +
      `${dmesg ? ` dmesg: ${dmesg}.` : ""}${offered} The libvirt domain XML is missing a <filesystem type='mount'> device ` +
      `with <driver type='virtiofs'/> and <target dir='${share.tag}'/> (add it with the virtio_fs_domain module or the host role, ` +
      `with shared memoryBacking) and restart the VM.`
    );
  }

  /** Unmounts the top mount at a kernel path (lazily: umount -l); shown as the configured path. */
  async umount(kernelPath: string, shown: string, job?: Job, lazy = false): Promise<void> {
    const top = topMountAt(this.mountinfo, kernelPath);
    const r = await runWithDeadline("umount", [...(lazy ? ["-l"] : []), "--", kernelPath], this.timeoutMs);
    this.refreshMountInfo();
    if (r.rc === 0) {
      this.roots.delete(kernelPath);
      this.health.delete(kernelPath);
      if (top) this.probed.delete(top.device); // gone: a later mount may get the same device number
      return;
    }
    if (r.timedOut)
      throw new ShareFailure(
        `cannot unmount ${shown}: umount did not return within ${this.args.health_timeout}s (health_timeout); ` +
          `the share does not answer. ${HOST_ACTION(top?.source ?? "?")}`,
      );
    const out = r.stderr + r.stdout;
    if (/busy/i.test(out)) {
      const scan = mountHolders(kernelPath, top?.device ?? "", this.timeoutMs);
      if (job) job.result.holders = scan.holders;
      throw new ShareFailure(
        `cannot unmount ${shown}: the mount point is busy (${describeFailure(r)}); ${describeHolders(scan)}. ` +
          `Stop those processes (or move their working directory out of ${shown}) and retry.`,
      );
    }
    throw new ShareFailure(`cannot unmount ${shown}: ${describeFailure(r)}`);
  }

  async remount(job: Job, options: string[]): Promise<void> {
    const share = job.share!;
    const mp = share.mount_point;
    const r = await runWithDeadline("mount", ["-o", ["remount", ...options].join(","), "--", mp], this.timeoutMs);
    let why: string | undefined;
    if (r.timedOut)
      throw new ShareFailure(
        `remounting ${share.tag} on ${mp} did not return within ${this.args.health_timeout}s (health_timeout): ${HOST_ACTION(share.tag)}`,
      );
    if (r.rc !== 0) why = `the kernel refused the remount (${describeFailure(r)})`;
    else {
      this.refreshMountInfo();
      const top = topMountAt(this.mountinfo, job.kernelPath);
      const diffs = top
        ? vfsFlagDifferences(requestedVfsFlags(options), mountedVfsFlags(top.mountOptions))
        : ["not mounted"];
      if (diffs.length > 0) why = `the remount did not apply ${diffs.join(", ")}`;
    }
    if (!why) return;
    await this.record(job, { action: "umount", why: `${why}; unmounting to mount again` }, () =>
      this.umount(job.kernelPath, mp, job),
    );
    await this.record(job, { action: "mount", why: `mounting again with ${options.join(",")}` }, () =>
      this.mount(share, options),
    );
  }

  /** Adds an action to the share's result and runs it; a throwing action is marked failed. */
  async record(job: Job, act: Action, body: () => void | Promise<void>): Promise<void> {
    job.result.actions.push(act);
    try {
      await body();
    } catch (e) {
      act.failed = true;
      throw e;
    }
  }

  // ---- shares that do not answer -----------------------------------------------------------------

  /**
   * Detaches the mount at the job's mount point (umount -l, which returns at once even when the share
   * does not answer). What waits on it keeps waiting: only its device can end that.
   */
  async detach(job: Job, why: string): Promise<void> {
    await this.record(job, { action: "umount_lazy", why: `${why}; umount -l detaches it at once` }, () =>
      this.check ? undefined : this.umount(job.kernelPath, job.desired.mountPoint, job, true),
    );
  }

  /**
   * A mounted share at the job's mount point that is not ok. Returns true when the job's plan
   * should run as usual (after a recovery, or for an answering share being removed).
   */
  async handleUnhealthy(job: Job): Promise<boolean> {
    const h = this.health.get(job.kernelPath);
    if (!h || h.health === "ok") return true;
    const top = topMountAt(this.mountinfo, job.kernelPath);
    const tag = top?.source ?? job.desired.tag ?? "?";
    job.result.health = h.health;
    job.result.health_source = h.source;
    const removing = job.desired.state === "unmounted" || job.desired.state === "absent";
    if (h.health === "host directory gone") {
      if (removing) return true; // the share still answers: a plain umount works
      throw new ShareFailure(
        `share ${tag} on ${job.desired.mountPoint}: the host directory is gone (${h.source}). ` +
          `On the host: recreate the directory (the host role does with virtio_fs_host_create_dirs), then restart the domain ` +
          `(virsh destroy + virsh start: virtiofsd keeps the deleted directory open, and a reboot does not restart it), and run again.`,
      );
    }
    const what = `share ${tag} on ${job.desired.mountPoint} is ${h.health} (${h.source})`;
    if (h.health === "not answering")
      throw new ShareFailure(
        `${what}. ${HOST_ACTION(tag)} Nothing in the guest can free the processes waiting on it: Linux has no abort ` +
          `for a virtio-fs connection, and a request sent to the device waits for its answer even after SIGKILL` +
          `${this.args.recover ? "; recover: true changed nothing (a new mount of the tag would join the same connection)" : ""}.` +
          this.blockedProbeNote(h),
      );
    if (!this.args.recover)
      throw new ShareFailure(
        `${what}. Its device was hot-unplugged or replaced on the host (virtio_fs_domain does when a virtiofsd dies): ` +
          `run with recover: true (virtio_fs_recover_dead_shares) to unmount it lazily and mount the tag again.`,
      );
    await this.detach(job, `share ${tag} is ${h.health}`);
    if (this.check) {
      if (job.desired.state === "mounted")
        job.result.actions.push({ action: "mount", why: `mounting ${tag} again after the recovery` });
      return false;
    }
    return true;
  }

  /** What a probe that got no answer leaves behind and how it ends, for a failure message. */
  blockedProbeNote(h: ShareHealth): string {
    if (h.abandonedProbe === undefined) return "";
    return (
      ` The probe that found this (pid ${h.abandonedProbe}, virtio-fs-probe) stays waiting on the share (state S, harmless) ` +
      `until the domain restarts on the host; later runs find it and send no new request.`
    );
  }

  // ---- applying ----------------------------------------------------------------------------------

  chown(job: Job, dir: string, uid: number | undefined, gid: number | undefined, tolerant: boolean): void {
    if (uid === undefined && gid === undefined) return;
    try {
      setDirOwnerMode(dir, uid, gid, undefined);
    } catch (e) {
      const msg = `cannot chown mount point ${dir}: ${errorText(e)}`;
      if (!tolerant) throw new ShareFailure(msg);
      this.ctx.warn(`${msg} (read-only share ${job.desired.tag}: ignored)`);
    }
  }

  /** Runs one step; false when a conditional step (rmdir) turned out not to apply. */
  async execute(job: Job, step: Step): Promise<boolean> {
    const mp = job.desired.mountPoint;
    switch (step.action) {
      case "umount":
        await this.umount(job.kernelPath, mp, job);
        return true;
      case "create_parent_dir":
        fs.mkdirSync(step.path, 0o755);
        job.created.push(step.path);
        setDirOwnerMode(
          step.path,
          process.getuid?.() === 0 ? 0 : undefined,
          process.getuid?.() === 0 ? 0 : undefined,
          0o755,
        );
        return true;
      case "create_dir":
        fs.mkdirSync(mp, step.mode);
        job.created.push(mp);
        this.chown(job, mp, step.uid, step.gid, step.tolerant);
        setDirOwnerMode(mp, undefined, undefined, step.mode);
        return true;
      case "chown":
        this.chown(job, mp, step.uid, step.gid, step.tolerant);
        return true;
      case "chmod":
        setDirOwnerMode(mp, undefined, undefined, step.mode);
        return true;
      case "mount":
        await this.mount(job.share!, step.options);
        job.mountedHere = true;
        await this.afterMount(job, true);
        return true;
      case "remount":
        await this.remount(job, step.options);
        await this.afterMount(job, false);
        return true;
      case "fstab_add":
        appendFstabEntry(this.fstab, step.entry);
        this.keys.set(this.fstab.lines[this.fstab.lines.length - 1], job.kernelPath);
        job.fstabEdited = true;
        return true;
      case "fstab_update": {
        const i = this.fstab.lines.indexOf(step.line);
        replaceFstabLine(this.fstab, i, step.entry);
        this.keys.set(this.fstab.lines[i], job.kernelPath);
        this.lineNumbers.set(this.fstab.lines[i], this.lineNumbers.get(step.line) ?? i + 1);
        job.fstabEdited = true;
        return true;
      }
      case "fstab_remove":
        this.fstab.lines.splice(this.fstab.lines.indexOf(step.line), 1);
        job.fstabEdited = true;
        return true;
      case "rmdir":
        this.refreshMountInfo();
        if (topMountAt(this.mountinfo, job.kernelPath) || !isEmptyDir(mp, this.roots)) return false;
        fs.rmdirSync(mp);
        return true;
    }
  }

  /**
   * Probes the share just mounted (never looking at it from this process). One that does not answer
   * is detached again when this run mounted it (fresh: nothing of the operator's is on it yet).
   */
  async afterMount(job: Job, fresh: boolean): Promise<void> {
    this.refreshMountInfo();
    const top = topMountAt(this.mountinfo, job.kernelPath);
    if (!top) return;
    this.roots.set(job.kernelPath, undefined);
    const h = await this.probe(top);
    this.health.set(job.kernelPath, h);
    if (h.health === "ok") {
      this.roots.set(job.kernelPath, h.root);
      const w = mountedOwnerWarning(job.desired, h.root ?? {}, (u, g) => `${userName(u)}:${groupName(g)}`);
      if (w) this.ctx.warn(w);
      return;
    }
    job.result.health = h.health;
    job.result.health_source = h.source;
    const what = `share ${top.source} on ${job.desired.mountPoint} was mounted but is ${h.health} (${h.source})`;
    if (fresh && h.health !== "host directory gone") {
      await this.detach(job, "the mount this run made does not answer");
      job.mountedHere = false;
    }
    throw new ShareFailure(
      h.health === "host directory gone"
        ? `${what}. On the host: recreate the directory, then restart the domain (virsh destroy + virsh start), and run again.`
        : `${what}${fresh ? "; it was detached again" : ""}. ${HOST_ACTION(top.source)}` + this.blockedProbeNote(h),
    );
  }

  failureText(job: Job, failure: PlanFailure): string {
    return failure.kind === "tag_not_offered" ? this.tagNotOffered(job.share!) : failure.msg;
  }

  /**
   * Plans the share, then runs the plan. An unmount can reveal another directory (the one under the
   * mount), so the share is planned again after each one; check mode runs nothing but the in-memory
   * fstab edits, so its result is the plan.
   */
  async apply(job: Job): Promise<void> {
    if (!(await this.handleUnhealthy(job))) return;
    for (let round = 0; round <= 16; round++) {
      const plan = planShare(job.desired, this.observe(job), this.args);
      for (const w of plan.warnings) this.ctx.warn(w);
      if (plan.failure) throw new ShareFailure(this.failureText(job, plan.failure));
      let replan = false;
      for (const step of plan.steps) {
        const act: Action = { action: step.action, why: step.why };
        if (this.check && !isFstabStep(step)) {
          job.result.actions.push(act);
          continue;
        }
        let done = true;
        await this.record(job, act, async () => {
          done = await this.execute(job, step);
        });
        if (!done) job.result.actions.pop();
        if (step.action === "umount" && !this.check) {
          replan = true;
          break;
        }
      }
      if (!replan) return;
    }
    throw new ShareFailure(`${job.desired.mountPoint} is still mounted after 16 unmounts`);
  }

  /**
   * Undoes what this run did to a share: unmounts it if this run mounted it, then removes the
   * (empty) directories this run created. Returns the umount error when the share stays mounted.
   */
  async undo(job: Job, reason: string): Promise<string | undefined> {
    if (job.mountedHere) {
      try {
        await this.record(job, { action: "umount", why: `${reason}; unmounting what this run mounted` }, () =>
          this.umount(job.kernelPath, job.desired.mountPoint, job),
        );
        job.mountedHere = false;
      } catch (e) {
        return errorText(e);
      }
    }
    const removed = removeEmptyDirs(job.created);
    job.created = [];
    if (removed.length)
      job.result.actions.push({
        action: "rmdir",
        why: `${reason}; removed what this run created: ${removed.join(", ")}`,
      });
    return undefined;
  }
}

/**
 * Removes the (still empty) directories a run created for a share, deepest first, so a share that
 * could not be mounted leaves nothing for the operator to clean up.
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
      const r = run("modprobe", ["--", "virtiofs"]);
      if (r.rc !== 0) {
        const msg =
          `the virtiofs kernel module is missing on this guest (${describeFailure(r)}). Install the kernel package that provides it for the ` +
          `running kernel ${os.release()} (Debian: linux-image-${os.release()}; it is in fs/fuse/virtiofs.ko) or boot a kernel built with CONFIG_VIRTIO_FS.`;
        if (args.perform_mounts)
          throw new ModuleFailure(msg, { changed: false, kernel_module: { changed: false, actions } });
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
    actions.push({
      action: "modules_load",
      why: `${MODULES_LOAD_FILE} ${current === undefined ? "is missing" : "does not contain exactly virtiofs"}; written so the module loads at boot`,
    });
    if (!ctx.checkMode) {
      try {
        fs.mkdirSync(path.dirname(conf), { recursive: true, mode: 0o755 });
        writeFileAtomic(conf, "virtiofs\n", 0o644);
      } catch (e) {
        throw new ModuleFailure(`cannot write ${MODULES_LOAD_FILE}: ${errorText(e)}`, {
          changed: actions.length > 1,
          kernel_module: { changed: actions.length > 1, actions: actions.slice(0, -1) },
        });
      }
    }
  }
  return actions;
}

export async function main(input: VirtioFsMountArgs, ctx: ModuleContext): Promise<ModuleResult> {
  // The validator (ajv useDefaults, compiled from the schema) has filled in every default: the schema
  // is their only home, so none is restated here.
  const args = input as MountArgs;
  const problems = shareProblems(args.mounts, "/mounts", false);
  for (const option of refusedOperations(splitOptions(args.default_options))) {
    problems.push(`/default_options: ${message("VFS036", { option })}`);
  }
  if (problems.length > 0) throw new ModuleFailure(`invalid arguments: ${problems.join("; ")}`);

  const moduleActions = ensureKernelModule(args, ctx);

  let fstabText = "";
  let fstabExists = true;
  try {
    fstabText = fs.readFileSync(args.fstab, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new ModuleFailure(`cannot read ${args.fstab}: ${errorText(e)}`);
    fstabExists = false;
  }
  let runner: MountRun;
  try {
    runner = new MountRun(args, ctx, fstabText);
  } catch (e) {
    throw new ModuleFailure(`cannot read the mount table ${systemPath("/proc/self/mountinfo")}: ${errorText(e)}`);
  }
  await runner.probeShares();

  const job = (share: Share | undefined, desired: Desired, pruned: boolean): Job => ({
    share,
    desired,
    kernelPath: kernelPathOf(desired.mountPoint, runner.roots),
    mountedHere: false,
    created: [],
    fstabEdited: false,
    result: {
      tag: desired.tag ?? "",
      mount_point: desired.mountPoint,
      state: desired.state,
      changed: false,
      actions: [],
      ...(pruned ? { pruned: true } : {}),
    },
  });
  const jobs: Job[] = args.mounts.map((share) => {
    const requested: State = filled(share.state, `state of share ${share.tag}`);
    const readonly = filled(share.readonly, `readonly of share ${share.tag}`);
    const owner = share.owner ?? args.default_owner;
    const group = share.group ?? args.default_group;
    return job(
      share,
      {
        tag: share.tag,
        mountPoint: share.mount_point,
        state: requested === "mounted" && !args.perform_mounts ? "present" : requested,
        options: effectiveOptions(share.options, args.default_options, readonly),
        readonly,
        owner,
        group,
        uid: lookupUid(owner),
        gid: lookupGid(group),
        mode: parseMode(share.mode ?? args.default_mode),
        absentWhy: "state is absent",
      },
      false,
    );
  });

  if (args.prune) {
    const wanted = new Set(jobs.map((j) => j.kernelPath));
    const extra = new Map<string, { mp: string; tag: string }>();
    for (const l of runner.fstab.lines) {
      const key = runner.fstabKey(l);
      if (l.entry && l.entry.vfstype === "virtiofs" && key !== undefined && !wanted.has(key) && !extra.has(key))
        extra.set(key, { mp: l.entry.file, tag: l.entry.spec });
    }
    for (const m of runner.mountinfo) {
      if (m.fstype === "virtiofs" && m.mountPoint !== "/" && !wanted.has(m.mountPoint) && !extra.has(m.mountPoint))
        extra.set(m.mountPoint, { mp: m.mountPoint, tag: m.source });
    }
    for (const { mp, tag } of extra.values()) {
      const j = job(
        undefined,
        {
          tag: undefined,
          mountPoint: mp,
          state: "absent",
          options: [],
          readonly: false,
          owner: "",
          group: "",
          mode: 0,
          absentWhy: "not in mounts and prune is true",
        },
        true,
      );
      j.result.tag = tag;
      jobs.push(j);
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
  const unpersisted: string[] = [];
  for (const j of order) {
    const r = j.result;
    try {
      await runner.apply(j);
    } catch (e) {
      r.failed = true;
      r.msg =
        e instanceof ShareFailure
          ? e.message
          : `${r.actions.at(-1)?.failed ? `${r.actions.at(-1)!.action} failed: ` : ""}${errorText(e)}`;
      const lastFailed = r.actions.at(-1);
      const reason = lastFailed?.failed && lastFailed.action === "mount" ? "the mount failed" : "the share failed";
      const stuck = await runner.undo(j, reason);
      if (stuck) unpersisted.push(`${r.tag} (${r.mount_point}): ${stuck}`);
      failures.push(`${r.tag} (${r.mount_point}): ${r.msg}`);
    }
  }

  if (!args.prune && args.persist) {
    for (const j of jobs) {
      if (!j.share) continue;
      const elsewhere = runner.fstab.lines.find(
        (l) =>
          l.entry &&
          l.entry.vfstype === "virtiofs" &&
          l.entry.spec === j.share!.tag &&
          runner.fstabKey(l) !== j.kernelPath,
      );
      if (elsewhere)
        ctx.warn(
          `fstab also mounts tag ${j.share.tag} on ${elsewhere.entry!.file}; remove that line or use prune: true`,
        );
    }
  }

  const after = serialiseFstab(runner.fstab);
  let fstabChanged = after !== fstabText;
  let backup: string | undefined;
  let daemonReloaded = false;
  let fstabError: string | undefined;
  if (fstabChanged && !ctx.checkMode) {
    try {
      if (args.backup && fstabExists) backup = backupFile(args.fstab);
      writeFileAtomic(args.fstab, after, 0o644);
    } catch (e) {
      fstabError = `cannot write ${args.fstab}: ${errorText(e)}`;
      fstabChanged = false;
    }
    if (fstabChanged && systemdIsPid1()) {
      const r = run("systemctl", ["daemon-reload"]);
      if (r.rc === 0) daemonReloaded = true;
      else
        ctx.warn(
          `fstab changed but systemctl daemon-reload failed: ${describeFailure(r)}; run it by hand before the next reboot`,
        );
    }
  }

  let fstabFailure: string | undefined;
  if (fstabError) {
    const rolledBack: string[] = [];
    const lost: string[] = [];
    for (const j of jobs.filter((x) => x.fstabEdited)) {
      const r = j.result;
      const label = `${r.tag} (${r.mount_point})`;
      const wasMounted = j.mountedHere;
      const stuck = wasMounted ? await runner.undo(j, `${args.fstab} could not be written`) : undefined;
      if (stuck) unpersisted.push(`${label}: ${stuck}`);
      else if (wasMounted) rolledBack.push(label);
      else lost.push(label);
      r.failed = true;
      r.msg = `${fstabError}; the fstab change for this share was not saved${wasMounted ? (stuck ? ` and it stays mounted (unmounting failed: ${stuck})` : ", so the mount this run made was undone") : ""}`;
    }
    fstabFailure =
      fstabError +
      (rolledBack.length
        ? `; unmounted again because their fstab line could not be saved: ${rolledBack.join(", ")}`
        : "") +
      (lost.length ? `; fstab changes not saved for: ${lost.join(", ")}` : "");
  }

  const results = jobs.map((j) => j.result);
  for (const r of results) r.changed = r.actions.some((a) => !a.failed);
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
    const written = ctx.checkMode || fstabChanged ? after : fstabText;
    result.diff = {
      before: fstabText,
      after: written,
      before_header: `${args.fstab} (before)`,
      after_header: `${args.fstab} (after)`,
    };
  }
  const parts: string[] = [];
  if (unpersisted.length) {
    parts.push(
      `MOUNTED BUT NOT IN ${args.fstab} (gone after the next reboot; unmount them or add their fstab lines by hand): ${unpersisted.join(" | ")}`,
    );
  }
  if (fstabFailure) parts.push(fstabFailure);
  if (failures.length)
    parts.push(
      failures.length === 1 && parts.length === 0
        ? failures[0]
        : `${failures.length} shares failed: ${failures.join(" | ")}`,
    );
  if (parts.length > 0) throw new ModuleFailure(parts.join(". "), result);
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
