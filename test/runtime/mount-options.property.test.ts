import * as path from "path";
import fc from "fast-check";
import {
  effectiveOptions,
  fsSpecificOptions,
  mountedVfsFlags,
  requestedVfsFlags,
  vfsFlagDifferences,
} from "../../src/runtime/mount-options";
import { makeWorld } from "./harness";

/*
 * An independent model of what root's mount(8) and the kernel do with an option list, transcribed
 * from util-linux libmount/src/optmap.c (MS_* bits, MNT_INVERT), context_mount.c (user/users/owner/
 * group imply MS_SECURE / MS_OWNERSECURE after the first option of their kind), optlist.c
 * (mnt_optlist_get_attrs: the last atime option set wins) and Linux fs/namespace.c (mount(2):
 * relatime unless MS_NOATIME, MS_STRICTATIME clears both) and show_mnt_opts (mountinfo order).
 */
const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  NOATIME: 1024,
  NODIRATIME: 2048,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  NOSYMFOLLOW: 256,
};
const LINUX: Record<string, [number, boolean]> = {
  ro: [MS.RDONLY, false],
  rw: [MS.RDONLY, true],
  noexec: [MS.NOEXEC, false],
  exec: [MS.NOEXEC, true],
  nosuid: [MS.NOSUID, false],
  suid: [MS.NOSUID, true],
  nodev: [MS.NODEV, false],
  dev: [MS.NODEV, true],
  noatime: [MS.NOATIME, false],
  atime: [MS.NOATIME, true],
  nodiratime: [MS.NODIRATIME, false],
  diratime: [MS.NODIRATIME, true],
  relatime: [MS.RELATIME, false],
  norelatime: [MS.RELATIME, true],
  strictatime: [MS.STRICTATIME, false],
  nostrictatime: [MS.STRICTATIME, true],
  nosymfollow: [MS.NOSYMFOLLOW, false],
  symfollow: [MS.NOSYMFOLLOW, true],
};
const SECURE = ["noexec", "nosuid", "nodev"];
const OWNERSECURE = ["nosuid", "nodev"];
const USER_KINDS: [string, string, string[]][] = [
  ["owner", "noowner", OWNERSECURE],
  ["group", "nogroup", OWNERSECURE],
  ["user", "nouser", SECURE],
  ["users", "nousers", SECURE],
];

function modelMountinfo(options: string[], api: "mount2" | "setattr"): string {
  const list = [...options];
  for (const [on, off, implied] of USER_KINDS) {
    const idx = list.map((o, i) => ({ n: o.split("=")[0], i })).filter((x) => x.n === on || x.n === off);
    if (idx.length === 0 || idx[idx.length - 1].n !== on) continue;
    if (on === "user" && list[idx[0].i].includes("=")) continue;
    list.splice(idx[0].i + 1, 0, ...implied);
  }
  let bits = 0;
  let lastAtime = 0;
  for (const o of list) {
    const def = LINUX[o.split("=")[0]];
    if (!def) continue;
    const [bit, invert] = def;
    bits = invert ? bits & ~bit : bits | bit;
    if (!invert && (bit === MS.NOATIME || bit === MS.RELATIME || bit === MS.STRICTATIME)) lastAtime = bit;
  }
  let atime: string;
  if (api === "mount2") atime = bits & MS.STRICTATIME ? "strictatime" : bits & MS.NOATIME ? "noatime" : "relatime";
  else atime = lastAtime === MS.NOATIME ? "noatime" : lastAtime === MS.STRICTATIME ? "strictatime" : "relatime";
  const out = [bits & MS.RDONLY ? "ro" : "rw"];
  if (bits & MS.NOSUID) out.push("nosuid");
  if (bits & MS.NODEV) out.push("nodev");
  if (bits & MS.NOEXEC) out.push("noexec");
  if (atime === "noatime") out.push("noatime");
  if (bits & MS.NODIRATIME) out.push("nodiratime");
  if (atime === "relatime") out.push("relatime");
  if (bits & MS.NOSYMFOLLOW) out.push("nosymfollow");
  return out.join(",");
}

const KNOWN = [
  ...Object.keys(LINUX).filter((o) => o !== "ro" && o !== "rw"),
  "defaults",
  "auto",
  "noauto",
  "nofail",
  "user",
  "user=alice",
  "nouser",
  "users",
  "nousers",
  "owner",
  "noowner",
  "group",
  "nogroup",
  "_netdev",
  "comment=x",
  "x-systemd.automount",
  "X-mount.mkdir",
  "sync",
  "async",
  "dirsync",
  "lazytime",
  "nolazytime",
];
const FS_SPECIFIC = ["dax", "dax=always", "dax=never", "rootmode=040000", "default_permissions", "allow_other"];
const optionLists = fc.array(fc.constantFrom(...KNOWN, ...FS_SPECIFIC), { maxLength: 9 });

describe("mount options follow util-linux and the kernel", () => {
  test("the flags the module expects are what mount(8) applies, with either mount API", () => {
    fc.assert(
      fc.property(optionLists, fc.boolean(), (opts, readonly) => {
        const effective = effectiveOptions(opts.length ? opts.join(",") : undefined, "defaults,nofail", readonly);
        const want = requestedVfsFlags(effective);
        expect(want.ro).toBe(readonly);
        for (const api of ["mount2", "setattr"] as const) {
          const shown = modelMountinfo(effective, api).split(",");
          expect(vfsFlagDifferences(want, mountedVfsFlags(shown))).toEqual([]);
          // and nothing else would pass for the flags the kernel shows
          expect(mountedVfsFlags(shown).ro).toBe(readonly);
        }
        // the effective list means what the share's own options mean, ro/rw aside
        expect(modelMountinfo(effective, "mount2").split(",").slice(1)).toEqual(
          modelMountinfo([readonly ? "ro" : "rw", ...opts], "mount2")
            .split(",")
            .slice(1),
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("a flag the kernel did not apply is seen as a difference", () => {
    fc.assert(
      fc.property(optionLists, (opts) => {
        const want = requestedVfsFlags(["rw", ...opts]);
        const shown = modelMountinfo(["rw", ...opts], "mount2").split(",");
        const flipped = shown.includes("noexec") ? shown.filter((o) => o !== "noexec") : [...shown, "noexec"];
        expect(vfsFlagDifferences(want, mountedVfsFlags(flipped))).toContain("noexec");
      }),
      { numRuns: 500 },
    );
  });

  test("defaults carries no flag: a read-only share with defaults,nofail stays ro", () => {
    const want = requestedVfsFlags(effectiveOptions("defaults,nofail", "rw", true));
    expect(want.ro).toBe(true);
    expect(vfsFlagDifferences(want, mountedVfsFlags(["ro", "relatime"]))).toEqual([]);
    expect(requestedVfsFlags(["rw", "exec", "user"]).noexec).toBe(true);
    expect(requestedVfsFlags(["rw", "user=alice"]).noexec).toBe(false);
    expect(requestedVfsFlags(["rw", "owner", "exec"])).toMatchObject({ nosuid: true, nodev: true, noexec: false });
    expect(requestedVfsFlags(["rw", "noatime", "relatime"])).toMatchObject({ atime: "relatime", atimeAlt: "noatime" });
    expect(fsSpecificOptions(["async", "sync", "dax=never", "dax=always"])).toEqual(["dax=always", "sync"]);
    expect(effectiveOptions("noexec,exec,noexec", "rw", false)).toEqual(["rw", "noexec", "exec", "noexec"]);
  });
});

describe("virtio_fs_mount on the fake guest: a second run changes nothing", () => {
  test("generated option sets, read-only or not, either mount API", () => {
    const w = makeWorld();
    let n = 0;
    try {
      fc.assert(
        fc.property(
          optionLists,
          fc.boolean(),
          fc.constantFrom("mount2" as const, "setattr" as const),
          (opts, readonly, api) => {
            w.setFake({ mountApi: api });
            const mp = path.join(w.mnt, `share${n++}`);
            const share: Record<string, unknown> = { tag: `t${n}`, mount_point: mp, readonly };
            if (opts.length) share.options = opts.join(",");
            const args = { mounts: [share], fstab: w.fstab, load_module: false, prune: false };
            const first = w.run("virtio_fs_mount", args).result;
            expect(first.failed).toBeFalsy();
            expect(first.changed).toBe(true);
            const second = w.run("virtio_fs_mount", args).result;
            expect({ opts, readonly, api, changed: second.changed, mounts: second.mounts }).toMatchObject({
              changed: false,
            });
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      w.cleanup();
    }
  });
});
