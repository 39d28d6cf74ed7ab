/**
 * Mount options: the effective option list of a share, and which of its options the kernel shows in
 * /proc/self/mountinfo (so that what is mounted can be compared with what is wanted).
 */

/** Options only mount(8), systemd or fstab consumers read; the kernel never shows them. */
function isUserspaceOnly(o: string): boolean {
  const name = o.split("=")[0];
  return ["defaults", "auto", "noauto", "nofail", "user", "nouser", "users", "owner", "group", "_netdev",
    "comment", "async", "loop", "helper"].includes(name) || name.startsWith("x-");
}

/** Per-mount (VFS) flags: the part of the options the kernel shows in the per-mount options field. */
export interface VfsFlags {
  ro: boolean;
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
  nosymfollow: boolean;
  nodiratime: boolean;
  atime: "relatime" | "noatime" | "strictatime";
}

const VFS_OPTION_NAMES = new Set(["ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "symfollow",
  "nosymfollow", "diratime", "nodiratime", "atime", "noatime", "relatime", "norelatime", "strictatime",
  "nostrictatime"]);

/** Flags the kernel applies for an option list, in mount(8) order (a later option wins). */
export function requestedVfsFlags(options: string[]): VfsFlags {
  const f: VfsFlags = { ro: false, nosuid: false, nodev: false, noexec: false, nosymfollow: false, nodiratime: false, atime: "relatime" };
  for (const o of options) {
    switch (o) {
      case "ro": f.ro = true; break;
      case "rw": f.ro = false; break;
      case "defaults": f.ro = false; f.nosuid = false; f.nodev = false; f.noexec = false; break;
      case "suid": f.nosuid = false; break;
      case "nosuid": f.nosuid = true; break;
      case "dev": f.nodev = false; break;
      case "nodev": f.nodev = true; break;
      case "exec": f.noexec = false; break;
      case "noexec": f.noexec = true; break;
      case "user": case "users": f.noexec = true; f.nosuid = true; f.nodev = true; break;
      case "owner": case "group": f.nosuid = true; f.nodev = true; break;
      case "symfollow": f.nosymfollow = false; break;
      case "nosymfollow": f.nosymfollow = true; break;
      case "diratime": f.nodiratime = false; break;
      case "nodiratime": f.nodiratime = true; break;
      case "noatime": f.atime = "noatime"; break;
      case "atime": case "relatime": case "norelatime": case "nostrictatime": f.atime = "relatime"; break;
      case "strictatime": f.atime = "strictatime"; break;
      default: break;
    }
  }
  return f;
}

/** Flags of a mounted file system from the per-mount options field of mountinfo. */
export function mountedVfsFlags(mountOptions: string[]): VfsFlags {
  const has = (o: string) => mountOptions.includes(o);
  return {
    ro: has("ro"),
    nosuid: has("nosuid"),
    nodev: has("nodev"),
    noexec: has("noexec"),
    nosymfollow: has("nosymfollow"),
    nodiratime: has("nodiratime"),
    atime: has("noatime") ? "noatime" : has("relatime") ? "relatime" : "strictatime",
  };
}

/** Names of the flags that differ ("ro", "noexec", "atime", ...). */
export function vfsFlagDifferences(want: VfsFlags, have: VfsFlags): string[] {
  return (Object.keys(want) as (keyof VfsFlags)[]).filter((k) => want[k] !== have[k]);
}

/** File-system specific options (neither VFS flags nor userspace-only), sorted. */
export function fsSpecificOptions(options: string[]): string[] {
  return [...new Set(options.filter((o) => o !== "" && !VFS_OPTION_NAMES.has(o) && !isUserspaceOnly(o)))].sort();
}

export function splitOptions(options: string): string[] {
  return options.split(",").filter((o) => o !== "");
}

/**
 * The options a share is mounted with: its own options or the default ones, every rw/ro removed,
 * then ro or rw (from readonly) put first; duplicates dropped.
 */
export function effectiveOptions(shareOptions: string | undefined, defaultOptions: string, readonly: boolean): string[] {
  const rest = splitOptions(shareOptions ?? defaultOptions).filter((o) => o !== "rw" && o !== "ro");
  return [readonly ? "ro" : "rw", ...new Set(rest)];
}

