/**
 * Mount options: the effective option list of a share, the per-mount flags mount(8) and the kernel
 * make of it, and which of them /proc/self/mountinfo shows (so that what is mounted can be compared
 * with what is wanted). The option semantics come from util-linux's option map, kept as data in
 * util-linux-optmap.ts; nothing here knows an option by name except through that table.
 */
import { IMPLIED_BY_USER_OPTIONS, optmapEntry, type OptmapEntry } from "./util-linux-optmap";

export type Atime = "relatime" | "noatime" | "strictatime";

/** Per-mount (VFS) flags: the part of the options the kernel shows in the per-mount options field. */
export interface VfsFlags {
  ro: boolean;
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
  nosymfollow: boolean;
  nodiratime: boolean;
  atime: Atime;
  /**
   * The atime the other mount API gives, when it differs. util-linux < 2.39 (Debian 12) passes MS_*
   * bits to mount(2): strictatime beats noatime beats the relatime default, whatever the order.
   * util-linux >= 2.39 (Debian 13) uses mount_setattr(2): the last of relatime/noatime/strictatime wins.
   * Lists that mix them (`noatime,relatime`) differ; either result counts as applied.
   */
  atimeAlt?: Atime;
}

/** Bits of VfsFlags, by the MS_* flag of util-linux's map. */
const FLAG_BITS: Record<string, keyof Omit<VfsFlags, "atime" | "atimeAlt">> = {
  MS_RDONLY: "ro",
  MS_NOSUID: "nosuid",
  MS_NODEV: "nodev",
  MS_NOEXEC: "noexec",
  MS_NOSYMFOLLOW: "nosymfollow",
  MS_NODIRATIME: "nodiratime",
};
const ATIME_FLAGS: Record<string, Atime> = {
  MS_RELATIME: "relatime",
  MS_NOATIME: "noatime",
  MS_STRICTATIME: "strictatime",
};

interface Parsed {
  option: string;
  entry: OptmapEntry | undefined;
}

/**
 * The option list libmount hands to the kernel, as map entries: user/users/owner/group (as root)
 * followed by the flags they imply, right after the first option carrying that userspace flag
 * (context_mount.c); `user=NAME` implies nothing.
 */
function withImpliedFlags(options: string[]): Parsed[] {
  const list: Parsed[] = options.map((option) => ({ option, entry: optmapEntry(option) }));
  const out = [...list];
  for (const userFlag of Object.keys(IMPLIED_BY_USER_OPTIONS)) {
    const carriers = list.filter((p) => p.entry?.flag === userFlag);
    if (carriers.length === 0 || carriers[carriers.length - 1].entry!.invert) continue;
    const first = carriers[0];
    if (userFlag === "MNT_MS_USER" && first.option.includes("=")) continue;
    const implied = IMPLIED_BY_USER_OPTIONS[userFlag].map((flag): Parsed => ({
      option: `(${first.option})`,
      entry: { name: "", flag, kind: "vfs" },
    }));
    out.splice(out.indexOf(first) + 1, 0, ...implied);
  }
  return out;
}

/** Flags the kernel applies for an option list, in mount(8) order (a later option wins). */
export function requestedVfsFlags(options: string[]): VfsFlags {
  const f: VfsFlags = {
    ro: false,
    nosuid: false,
    nodev: false,
    noexec: false,
    nosymfollow: false,
    nodiratime: false,
    atime: "relatime",
  };
  const atimeBits: Record<string, boolean> = {};
  let lastAtime: Atime | undefined;
  for (const { entry } of withImpliedFlags(options)) {
    if (!entry || entry.kind !== "vfs") continue;
    const bit = FLAG_BITS[entry.flag];
    if (bit) f[bit] = !entry.invert;
    const atime = ATIME_FLAGS[entry.flag];
    if (atime) {
      atimeBits[entry.flag] = !entry.invert;
      if (!entry.invert) lastAtime = atime; // mnt_optlist_get_attrs: an inverted one clears, never resets the last set
    }
  }
  // fs/namespace.c path_mount: relatime unless MS_NOATIME; MS_STRICTATIME clears both.
  const classic: Atime = atimeBits.MS_STRICTATIME ? "strictatime" : atimeBits.MS_NOATIME ? "noatime" : "relatime";
  const setattr: Atime = lastAtime ?? "relatime";
  f.atime = setattr;
  if (classic !== setattr) f.atimeAlt = classic;
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

/** Names of the flags that differ ("ro", "noexec", "atime", ...); an atime either API gives is no difference. */
export function vfsFlagDifferences(want: VfsFlags, have: VfsFlags): string[] {
  const keys = (Object.keys(want) as (keyof VfsFlags)[]).filter((k) => k !== "atimeAlt");
  return keys.filter((k) => {
    if (k !== "atime") return want[k] !== have[k];
    return have.atime !== want.atime && have.atime !== want.atimeAlt;
  });
}

/**
 * What of an option list only fstab remembers, canonical so that equal meaning compares equal:
 * the file-system specific options (not in util-linux's map; for key=value the last value of a key
 * wins, as the kernel parses them in order) and the superblock flags that end up set (sync, dirsync,
 * lazytime, ...), sorted. The kernel does not show them reliably per mount, so the module compares
 * them with the share's previous fstab line.
 */
export function fsSpecificOptions(options: string[]): string[] {
  const byKey = new Map<string, string>();
  const superblock = new Map<string, OptmapEntry>();
  for (const option of options) {
    if (option === "") continue;
    const entry = optmapEntry(option);
    if (!entry) byKey.set(option.split("=")[0], option);
    else if (entry.kind === "superblock") superblock.set(entry.flag, entry);
  }
  const setFlags = [...superblock.values()].filter((e) => !e.invert).map((e) => e.name);
  return [...new Set([...byKey.values(), ...setFlags])].sort();
}

/**
 * Options that change what kind of mount(2) call mount(8) makes (bind, move, remount, propagation,
 * loop devices, helper=, verity.*) or only silence kernel messages: none is a property of a virtio-fs
 * share, and bind/move would mount something other than the tag.
 */
export function operationOptions(options: string[]): string[] {
  return options.filter((o) => optmapEntry(o)?.kind === "operation");
}

export function splitOptions(options: string): string[] {
  return options.split(",").filter((o) => o !== "");
}

function sameMeaning(a: string[], b: string[]): boolean {
  return (
    JSON.stringify(requestedVfsFlags(a)) === JSON.stringify(requestedVfsFlags(b)) &&
    fsSpecificOptions(a).join(",") === fsSpecificOptions(b).join(",")
  );
}

/**
 * The options a share is mounted with: its own options or the default ones, every rw/ro (anything
 * carrying MS_RDONLY) removed,
 * then ro or rw (from readonly) put first. A repeated option is dropped when that keeps the meaning
 * (`noatime,nofail,noatime`); when the repetition matters (`noexec,exec,noexec`) the list is kept.
 */
export function effectiveOptions(
  shareOptions: string | undefined,
  defaultOptions: string,
  readonly: boolean,
): string[] {
  const rest = splitOptions(shareOptions ?? defaultOptions).filter((o) => optmapEntry(o)?.flag !== "MS_RDONLY");
  const full = [readonly ? "ro" : "rw", ...rest];
  const deduped = [...new Set(full)];
  return sameMeaning(full, deduped) ? deduped : full;
}
