/*
 * The host directories of a domain's shares (virtio_fs_domain host_dirs): checked, or created when
 * missing, inside the one module execution per domain. The host role used to stat every share in a
 * task of its own (one module execution per share), which dominated its cost at hundreds of domains
 * (bench/host).
 */
import * as fs from "fs";
import * as path from "path";
import { ModuleFailure } from "./ansible";

export type HostDirsPolicy = "ignore" | "require" | "create";

export interface HostDirShare {
  tag: string;
  /** Required on the host side (checkDomainShares); a share without one has nothing to check. */
  host_path?: string;
}

/** What a path is: a directory (a symlink to one counts, as libvirt follows it), something else, or nothing. */
function kind(p: string): "dir" | "other" | "missing" {
  try {
    return fs.statSync(p).isDirectory() ? "dir" : "other";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw new ModuleFailure(`cannot inspect host directory ${p}: ${(e as Error).message}`);
  }
}

/**
 * Checks (require) or creates (create) the host directory of each share; returns the directories
 * created (in check mode: that would be created), parents first. Missing parents are created with the
 * same mode, as ansible.builtin.file state=directory does.
 */
export function ensureHostDirs(
  shares: HostDirShare[],
  policy: HostDirsPolicy,
  mode: string,
  checkMode: boolean,
): string[] {
  if (policy === "ignore") return [];
  const created: string[] = [];
  const seen = new Set<string>();
  for (const share of shares) {
    if (share.host_path === undefined) continue;
    const dir = path.resolve(share.host_path);
    if (seen.has(dir)) continue;
    seen.add(dir);
    const k = kind(dir);
    if (k === "dir") continue;
    if (k === "other" || policy === "require") {
      throw new ModuleFailure(
        `host directory ${share.host_path} of share ${share.tag} does not exist or is not a directory` +
          (k === "other" ? "" : ": create it, or set virtio_fs_host_create_dirs: true"),
      );
    }
    // the missing components, outermost first, below the deepest one that exists
    const missing: string[] = [];
    let p = dir;
    while (kind(p) === "missing" && !created.includes(p)) {
      missing.unshift(p);
      const parent = path.dirname(p);
      if (parent === p) break;
      p = parent;
    }
    if (kind(p) === "other")
      throw new ModuleFailure(`host directory ${share.host_path} of share ${share.tag}: ${p} is not a directory`);
    for (const m of missing) {
      if (!checkMode) {
        try {
          fs.mkdirSync(m);
          fs.chmodSync(m, parseInt(mode, 8)); // mkdir's mode is filtered by the umask
        } catch (e) {
          throw new ModuleFailure(`cannot create host directory ${m} of share ${share.tag}: ${(e as Error).message}`);
        }
      }
      created.push(m);
    }
  }
  return created;
}
