/**
 * The mount option map of util-linux, as data: which option sets or clears which flag.
 *
 * Source: util-linux libmount/src/optmap.c (linux_flags_map and userspace_opts_map), read at commit
 * 39465c780eed56034ed1440068a2722fc3331343 (v2.43-devel, 2026-08); unchanged in substance since 2.38,
 * the version Debian 12 ships. How user/users/owner/group turn into flags is in
 * libmount/src/context_mount.c (evaluate_permissions, the superuser branch): MS_SECURE
 * (noexec,nosuid,nodev) for `user` (without =name) and `users`, MS_OWNERSECURE (nosuid,nodev) for
 * `owner` and `group`, inserted right after the FIRST option carrying that userspace flag (so a later
 * `exec` still wins). `user=NAME` is ignored there. `defaults` carries no flag at all.
 */

/**
 * - vfs: a per-mount flag, shown in the per-mount field of /proc/self/mountinfo.
 * - superblock: a flag of the file system instance (MNT_SUPERBLOCK), shown in the super options if at all.
 * - operation: changes what kind of mount(2) call is made (bind, move, remount, propagation) or is a
 *   kernel message switch; never a property of a share.
 * - userspace: read only by mount(8), systemd or fstab tools; never reaches the kernel as a flag.
 */
export type OptionKind = "vfs" | "superblock" | "operation" | "userspace";

export interface OptmapEntry {
  /** Option name as written; with `value` it is followed by "=" (required) or optionally "=" (optional). */
  name: string;
  /** The MS_* (kernel) or MNT_MS_* (userspace) flag it sets or, with invert, clears; "" for none. */
  flag: string;
  invert?: true;
  kind: OptionKind;
  value?: "required" | "optional";
  /** The name is a prefix (x-..., X-...). */
  prefix?: true;
}

const e = (name: string, flag: string, kind: OptionKind, extra: Partial<OptmapEntry> = {}): OptmapEntry => ({
  name,
  flag,
  kind,
  ...extra,
});
const inv = { invert: true } as const;

/** linux_flags_map: fs-independent kernel flags (MNT_LINUX_MAP). */
const LINUX_FLAGS_MAP: readonly OptmapEntry[] = [
  e("ro", "MS_RDONLY", "vfs"),
  e("rw", "MS_RDONLY", "vfs", inv),
  e("exec", "MS_NOEXEC", "vfs", inv),
  e("noexec", "MS_NOEXEC", "vfs"),
  e("suid", "MS_NOSUID", "vfs", inv),
  e("nosuid", "MS_NOSUID", "vfs"),
  e("dev", "MS_NODEV", "vfs", inv),
  e("nodev", "MS_NODEV", "vfs"),
  e("sync", "MS_SYNCHRONOUS", "superblock"),
  e("async", "MS_SYNCHRONOUS", "superblock", inv),
  e("dirsync", "MS_DIRSYNC", "superblock"),
  e("remount", "MS_REMOUNT", "operation"),
  e("bind", "MS_BIND", "operation"),
  e("rbind", "MS_BIND|MS_REC", "operation"),
  e("sub", "MS_NOSUB", "operation", inv),
  e("nosub", "MS_NOSUB", "operation"),
  e("silent", "MS_SILENT", "operation"),
  e("loud", "MS_SILENT", "operation", inv),
  e("mand", "MS_MANDLOCK", "superblock"),
  e("nomand", "MS_MANDLOCK", "superblock", inv),
  e("atime", "MS_NOATIME", "vfs", inv),
  e("noatime", "MS_NOATIME", "vfs"),
  e("iversion", "MS_I_VERSION", "superblock"),
  e("noiversion", "MS_I_VERSION", "superblock", inv),
  e("diratime", "MS_NODIRATIME", "vfs", inv),
  e("nodiratime", "MS_NODIRATIME", "vfs"),
  e("relatime", "MS_RELATIME", "vfs"),
  e("norelatime", "MS_RELATIME", "vfs", inv),
  e("strictatime", "MS_STRICTATIME", "vfs"),
  e("nostrictatime", "MS_STRICTATIME", "vfs", inv),
  e("lazytime", "MS_LAZYTIME", "superblock"),
  e("nolazytime", "MS_LAZYTIME", "superblock", inv),
  e("unbindable", "MS_UNBINDABLE", "operation"),
  e("runbindable", "MS_UNBINDABLE|MS_REC", "operation"),
  e("private", "MS_PRIVATE", "operation"),
  e("rprivate", "MS_PRIVATE|MS_REC", "operation"),
  e("slave", "MS_SLAVE", "operation"),
  e("rslave", "MS_SLAVE|MS_REC", "operation"),
  e("shared", "MS_SHARED", "operation"),
  e("rshared", "MS_SHARED|MS_REC", "operation"),
  e("symfollow", "MS_NOSYMFOLLOW", "vfs", inv),
  e("nosymfollow", "MS_NOSYMFOLLOW", "vfs"),
  e("move", "MS_MOVE", "operation"),
];

/** userspace_opts_map (MNT_USERSPACE_MAP). */
const USERSPACE_OPTS_MAP: readonly OptmapEntry[] = [
  e("defaults", "", "userspace"),
  e("auto", "MNT_MS_NOAUTO", "userspace", inv),
  e("noauto", "MNT_MS_NOAUTO", "userspace"),
  e("user", "MNT_MS_USER", "userspace", { value: "optional" }),
  e("nouser", "MNT_MS_USER", "userspace", inv),
  e("users", "MNT_MS_USERS", "userspace"),
  e("nousers", "MNT_MS_USERS", "userspace", inv),
  e("owner", "MNT_MS_OWNER", "userspace"),
  e("noowner", "MNT_MS_OWNER", "userspace", inv),
  e("group", "MNT_MS_GROUP", "userspace"),
  e("nogroup", "MNT_MS_GROUP", "userspace", inv),
  e("_netdev", "MNT_MS_NETDEV", "userspace"),
  e("comment", "MNT_MS_COMMENT", "userspace", { value: "required" }),
  e("x-", "MNT_MS_XCOMMENT", "userspace", { prefix: true }),
  e("X-", "MNT_MS_XFSTABCOMM", "userspace", { prefix: true }),
  e("loop", "MNT_MS_LOOP", "operation", { value: "optional" }),
  e("offset", "MNT_MS_OFFSET", "operation", { value: "required" }),
  e("sizelimit", "MNT_MS_SIZELIMIT", "operation", { value: "required" }),
  e("encryption", "MNT_MS_ENCRYPTION", "operation", { value: "required" }),
  e("nofail", "MNT_MS_NOFAIL", "userspace"),
  e("uhelper", "MNT_MS_UHELPER", "userspace", { value: "required" }),
  e("helper", "MNT_MS_HELPER", "operation", { value: "required" }),
  e("verity.hashdevice", "MNT_MS_HASH_DEVICE", "operation", { value: "required" }),
  e("verity.roothash", "MNT_MS_ROOT_HASH", "operation", { value: "required" }),
  e("verity.hashoffset", "MNT_MS_HASH_OFFSET", "operation", { value: "required" }),
  e("verity.roothashfile", "MNT_MS_ROOT_HASH_FILE", "operation", { value: "required" }),
  e("verity.fecdevice", "MNT_MS_FEC_DEVICE", "operation", { value: "required" }),
  e("verity.fecoffset", "MNT_MS_FEC_OFFSET", "operation", { value: "required" }),
  e("verity.fecroots", "MNT_MS_FEC_ROOTS", "operation", { value: "required" }),
  e("verity.roothashsig", "MNT_MS_ROOT_HASH_SIG", "operation", { value: "required" }),
  e("verity.oncorruption", "MNT_MS_VERITY_ON_CORRUPTION", "operation", { value: "required" }),
];

/** MS_SECURE and MS_OWNERSECURE of libmount.h: what user/users and owner/group imply for root. */
export const IMPLIED_BY_USER_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  MNT_MS_USER: ["MS_NOEXEC", "MS_NOSUID", "MS_NODEV"],
  MNT_MS_USERS: ["MS_NOEXEC", "MS_NOSUID", "MS_NODEV"],
  MNT_MS_OWNER: ["MS_NOSUID", "MS_NODEV"],
  MNT_MS_GROUP: ["MS_NOSUID", "MS_NODEV"],
};

/**
 * The map entry of one option as libmount looks it up (mnt_optmap_get_entry): linux map first, then
 * userspace; prefix entries match by prefix, the others by the name before any "=" (libmount does not
 * check the value there). Undefined: a file-system specific option.
 */
export function optmapEntry(option: string): OptmapEntry | undefined {
  const eq = option.indexOf("=");
  const name = eq < 0 ? option : option.slice(0, eq);
  for (const ent of [...LINUX_FLAGS_MAP, ...USERSPACE_OPTS_MAP]) {
    if (ent.prefix) {
      if (option.startsWith(ent.name)) return ent;
      continue;
    }
    if (ent.name === name) return ent;
  }
  return undefined;
}
