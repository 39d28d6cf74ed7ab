/*
 * virtio_fs_info: reports what the guest knows about virtio-fs and changes nothing.
 * Test hooks (src/runtime/env-hooks.ts): VIRTIO_FS_ROOT prefixes /proc, /sys and /lib/modules (not the
 * fstab argument); VIRTIO_FS_BIN_DIR holds modinfo; VIRTIO_FS_PROBE_STALL makes a probe hang.
 *
 * Each mount gets a health (share-health.ts): the probes run in child processes abandoned at
 * health_timeout, all at once, so the module returns in about twice that whatever the shares do.
 * One probe per share per run, none for a share an earlier probe still waits on: a probe that does
 * not answer stays blocked until the domain restarts (no abort exists for virtio-fs, share-health.ts).
 */
import * as fs from "fs";
import * as os from "os";
import type { VirtioFsInfoArgs } from "../generated/types";
import { filled } from "../schema-defaults";
import { ModuleFailure, type ModuleContext, type ModuleResult } from "../ansible";
import { parseFstab } from "../fstab";
import { readMountInfo, virtiofsMounts } from "../mountinfo";
import { offeredTags, virtiofsAvailable, virtiofsLoaded } from "../virtiofs-kernel";
import { systemPath } from "../env-hooks";
import { checkShares, type Health } from "../share-health";

export interface VirtioFsFacts {
  kernel: string;
  module: { available: boolean; loaded: boolean };
  mounts: {
    tag: string;
    mount_point: string;
    options: string;
    super_options: string;
    ro: boolean;
    health: Health;
    health_source: string;
  }[];
  fstab: { tag: string; mount_point: string; options: string; dump: number; passno: number; line: number }[];
  tags: string[] | null;
}

async function gatherFacts(fstabPath: string, timeoutMs: number): Promise<VirtioFsFacts> {
  const kernel = os.release();
  let fstabText = "";
  try {
    fstabText = fs.readFileSync(fstabPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new ModuleFailure(`cannot read ${fstabPath}: ${(e as Error).message}`);
  }
  let mountinfo;
  try {
    mountinfo = readMountInfo();
  } catch (e) {
    throw new ModuleFailure(
      `cannot read the mount table ${systemPath("/proc/self/mountinfo")}: ${(e as Error).message}`,
    );
  }
  const fstab: VirtioFsFacts["fstab"] = [];
  parseFstab(fstabText).lines.forEach((l, i) => {
    if (l.entry && l.entry.vfstype === "virtiofs") {
      fstab.push({
        tag: l.entry.spec,
        mount_point: l.entry.file,
        options: l.entry.mntops,
        dump: Number(l.entry.freq) || 0,
        passno: Number(l.entry.passno) || 0,
        line: i + 1,
      });
    }
  });
  const mounts = virtiofsMounts(mountinfo);
  const health = await checkShares(mounts, timeoutMs);
  return {
    kernel,
    module: { available: virtiofsAvailable(kernel), loaded: virtiofsLoaded() },
    mounts: mounts.map((m, i) => ({
      tag: m.source,
      mount_point: m.mountPoint,
      options: m.mountOptions.join(","),
      super_options: m.superOptions.join(","),
      ro: m.readonly,
      health: health[i].health,
      health_source: health[i].source,
    })),
    fstab,
    tags: offeredTags(),
  };
}

// Under its own key only: ansible_facts is for *_facts modules (ansible-test validate-modules).
export async function main(args: VirtioFsInfoArgs, _ctx: ModuleContext): Promise<ModuleResult> {
  const facts = await gatherFacts(filled(args.fstab, "fstab"), filled(args.health_timeout, "health_timeout") * 1000);
  return { changed: false, virtio_fs: facts };
}
