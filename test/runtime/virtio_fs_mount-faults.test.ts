/**
 * Issue 9 classes for virtio_fs_mount: partial failure never loses a share (fault injection), paths
 * compared as the kernel sees them (symlinks), fstab lines matched by normalised path, nothing from
 * the arguments reaches a command line as an option. Every scenario runs the module twice and the
 * second run must report changed: false.
 */
import * as fs from "fs";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

type Act = { action: string; why: string; failed?: boolean };
const actions = (share: { actions: Act[] }) => share.actions.map((a) => a.action);
const byTag = (result: Record<string, any>, tag: string) => result.mounts.find((m: { tag: string }) => m.tag === tag);
const args = (world: World, mounts: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
  mounts,
  fstab: world.fstab,
  ...extra,
});
const virtiofsMounts = (world: World) =>
  world
    .mountinfo()
    .split("\n")
    .filter((l) => l.includes(" - virtiofs "));

describe("partial failure never loses a share", () => {
  function goodAndBad(world: World) {
    const good = path.join(world.mnt, "good");
    const file = path.join(world.mnt, "a-file");
    fs.writeFileSync(file, "not a directory");
    const bad = path.join(file, "bad");
    return {
      good,
      bad,
      file,
      mounts: [
        { tag: "good", mount_point: good },
        { tag: "bad", mount_point: bad },
      ],
    };
  }

  test("a mount point through a regular file fails that share only: good is mounted AND in fstab, both results returned", () => {
    w = makeWorld();
    const { good, file, mounts } = goodAndBad(w);
    const { result } = w.run("virtio_fs_mount", args(w, mounts));
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(true);
    expect(result.fstab_changed).toBe(true);
    expect(w.readFstab()).toBe(`good ${good} virtiofs rw,relatime,nofail 0 0\n`);
    expect(virtiofsMounts(w)).toHaveLength(1);
    expect(byTag(result, "good")).toMatchObject({ changed: true });
    expect(byTag(result, "good").failed).toBeUndefined();
    expect(actions(byTag(result, "good"))).toEqual(["create_dir", "mount", "fstab_add"]);
    expect(byTag(result, "bad")).toMatchObject({ failed: true, changed: false, actions: [] });
    expect(byTag(result, "bad").msg).toBe(
      `mount point ${path.join(file, "bad")} cannot be created: ${file} is a file, not a directory`,
    );
    expect(result.msg).toContain(`bad (${path.join(file, "bad")})`);
    w.clearCalls();
    const again = w.run("virtio_fs_mount", args(w, mounts)).result;
    expect(again.failed).toBe(true);
    expect(again.changed).toBe(false);
    expect(callsOf(w, "mount")).toEqual([]);
  });

  test("any fs error (mkdir EACCES, not the module's own failure type) is caught per share", () => {
    w = makeWorld();
    const good = path.join(w.mnt, "good");
    const bad = path.join(w.mnt, "parent", "bad");
    const mounts = [
      { tag: "bad", mount_point: bad },
      { tag: "good", mount_point: good },
    ];
    const faults = { mkdir: { [path.join(w.mnt, "parent")]: "EACCES" } };
    const { result } = w.runWithFaults("virtio_fs_mount", args(w, mounts), faults);
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(true);
    expect(byTag(result, "bad").msg).toBe(
      `create_parent_dir failed: EACCES: injected fault, mkdir '${path.join(w.mnt, "parent")}'`,
    );
    expect(byTag(result, "bad").actions).toEqual([
      { action: "create_parent_dir", why: expect.any(String), failed: true },
    ]);
    expect(byTag(result, "bad").changed).toBe(false);
    expect(w.readFstab()).toBe(`good ${good} virtiofs rw,relatime,nofail 0 0\n`);
    expect(callsOf(w, "mount").map((c) => c[5])).toEqual(["good"]);
    const again = w.runWithFaults("virtio_fs_mount", args(w, mounts), faults).result;
    expect(again.changed).toBe(false);
    expect(byTag(again, "good").actions).toEqual([]);
  });

  test("a mount that fails: the other share is persisted, the failed one leaves nothing behind", () => {
    w = makeWorld();
    const good = path.join(w.mnt, "good");
    const bad = path.join(w.mnt, "bad");
    w.setFake({ mountFail: [bad] });
    const mounts = [
      { tag: "bad", mount_point: bad },
      { tag: "good", mount_point: good },
    ];
    const { result } = w.run("virtio_fs_mount", args(w, mounts));
    expect(result.failed).toBe(true);
    expect(byTag(result, "bad").actions).toEqual([
      { action: "create_dir", why: expect.any(String) },
      { action: "mount", why: expect.any(String), failed: true },
      { action: "rmdir", why: `the mount failed; removed what this run created: ${bad}` },
    ]);
    expect(byTag(result, "bad").msg).toContain("permission denied");
    expect(fs.existsSync(bad)).toBe(false);
    expect(w.readFstab()).toBe(`good ${good} virtiofs rw,relatime,nofail 0 0\n`);
    // a rerun creates and removes the directory again: that is what happened, so changed: true
    w.setFake({});
    expect(w.run("virtio_fs_mount", args(w, mounts)).result.changed).toBe(true);
    expect(w.run("virtio_fs_mount", args(w, mounts)).result.changed).toBe(false);
  });

  test("fstab refuses the temp file (EROFS): the share mounted in this run is unmounted again and the failure says so", () => {
    w = makeWorld();
    w.writeFstab("# old\n");
    const good = path.join(w.mnt, "good");
    const kept = path.join(w.mnt, "kept");
    fs.mkdirSync(kept);
    w.addMount("kept", kept);
    w.writeFstab(`# old\nkept ${kept} virtiofs rw,relatime 0 0\n`);
    const before = w.readFstab();
    const mounts = [
      { tag: "good", mount_point: good },
      { tag: "kept", mount_point: kept },
    ];
    const faults = { createIn: { [path.dirname(w.fstab)]: "EROFS" } };
    const { result } = w.runWithFaults("virtio_fs_mount", args(w, mounts), faults);
    expect(result.failed).toBe(true);
    expect(result.fstab_changed).toBe(false);
    expect(w.readFstab()).toBe(before);
    expect(result.msg).toContain(`cannot write ${w.fstab}: EROFS: injected fault`);
    expect(result.msg).toContain(`unmounted again because their fstab line could not be saved: good (${good})`);
    expect(result.msg).toContain(`fstab changes not saved for: kept (${kept})`);
    expect(actions(byTag(result, "good"))).toEqual(["create_dir", "mount", "fstab_add", "umount", "rmdir"]);
    expect(byTag(result, "good")).toMatchObject({ failed: true, changed: true });
    expect(byTag(result, "kept").failed).toBe(true);
    // kept was mounted before this run: it stays mounted; good is gone, with its directory
    expect(virtiofsMounts(w)).toHaveLength(1);
    expect(w.mountinfo()).toContain(` ${kept} `);
    expect(fs.existsSync(good)).toBe(false);
    expect(callsOf(w, "umount")).toEqual([["--", good]]);
    // once fstab is writable the run converges
    expect(w.run("virtio_fs_mount", args(w, mounts)).result.changed).toBe(true);
    expect(w.run("virtio_fs_mount", args(w, mounts)).result.changed).toBe(false);
    expect(w.readFstab()).toBe(
      `# old\nkept ${kept} virtiofs rw,relatime,nofail 0 0\ngood ${good} virtiofs rw,relatime,nofail 0 0\n`,
    );
  });

  test("an fstab whose directory does not exist (what root cannot bypass either): rollback", () => {
    w = makeWorld();
    const good = path.join(w.mnt, "good");
    const fstab = path.join(w.dir, "no-such-dir", "fstab");
    const a = { mounts: [{ tag: "good", mount_point: good }], fstab };
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.failed).toBe(true);
    expect(result.msg).toContain(`cannot write ${fstab}: ENOENT`);
    expect(virtiofsMounts(w)).toEqual([]);
    expect(fs.existsSync(good)).toBe(false);
    fs.mkdirSync(path.dirname(fstab));
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(true);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("when the rollback unmount fails too, the failure names the share that is mounted but not in fstab", () => {
    w = makeWorld();
    const good = path.join(w.mnt, "good");
    w.setFake({ busy: [good] });
    const a = args(w, [{ tag: "good", mount_point: good }]);
    const faults = { createIn: { [path.dirname(w.fstab)]: "EPERM" } };
    const { result } = w.runWithFaults("virtio_fs_mount", a, faults);
    expect(result.failed).toBe(true);
    expect(result.msg).toMatch(
      new RegExp(
        `^MOUNTED BUT NOT IN ${w.fstab} .*: good \\(${good}\\): cannot unmount ${good}: the mount point is busy`,
      ),
    );
    expect(byTag(result, "good").actions.at(-1)).toMatchObject({ action: "umount", failed: true });
    expect(byTag(result, "good").msg).toContain("stays mounted");
    expect(virtiofsMounts(w)).toHaveLength(1);
    // the next run (fstab writable) persists it without mounting again
    w.clearCalls();
    const again = w.run("virtio_fs_mount", a).result;
    expect(actions(byTag(again, "good"))).toEqual(["fstab_add"]);
    expect(callsOf(w, "mount")).toEqual([]);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("check mode reports exactly the steps the real run then takes", () => {
    w = makeWorld();
    const fresh = path.join(w.mnt, "deep", "fresh");
    const ro = path.join(w.mnt, "ro");
    const gone = path.join(w.mnt, "gone");
    fs.mkdirSync(ro);
    fs.mkdirSync(gone);
    w.addMount("ro", ro);
    w.addMount("gone", gone);
    w.writeFstab(`ro ${ro}/ virtiofs rw,relatime,nofail 0 0\ngone ${gone} virtiofs rw 0 0\n`);
    const a = args(w, [
      { tag: "fresh", mount_point: fresh },
      { tag: "ro", mount_point: ro, readonly: true },
      { tag: "gone", mount_point: gone, state: "absent" },
    ]);
    const planned = w.run("virtio_fs_mount", { ...a, _ansible_check_mode: true }).result;
    expect(w.calls()).toEqual([]);
    const done = w.run("virtio_fs_mount", a).result;
    expect(done.failed).toBeUndefined();
    for (const tag of ["fresh", "ro", "gone"]) expect(actions(byTag(done, tag))).toEqual(actions(byTag(planned, tag)));
    expect(done.changed).toBe(planned.changed);
    expect(w.run("virtio_fs_mount", { ...a, _ansible_check_mode: true }).result.changed).toBe(false);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });
});

describe("paths are compared as the kernel sees them", () => {
  test("a mount point under a symlinked parent (/home -> /var/home) is mounted once, not stacked on every run", () => {
    w = makeWorld();
    const real = path.join(w.mnt, "var-home");
    const link = path.join(w.mnt, "home");
    fs.mkdirSync(real);
    fs.symlinkSync(real, link);
    const mp = path.join(link, "alice", "data");
    const a = args(w, [{ tag: "data", mount_point: mp, mode: "0750" }]);
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.failed).toBeUndefined();
    expect(callsOf(w, "mount")).toEqual([["-t", "virtiofs", "-o", "rw,relatime,nofail", "--", "data", mp]]);
    expect(w.mountinfo()).toContain(` ${path.join(real, "alice", "data")} `);
    expect(w.readFstab()).toBe(`data ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    w.clearCalls();
    const again = w.run("virtio_fs_mount", a).result;
    expect(again.changed).toBe(false);
    expect(w.calls()).toEqual([]);
    expect(virtiofsMounts(w)).toHaveLength(1);
    // absent finds it through the same resolution
    const gone = w.run("virtio_fs_mount", args(w, [{ tag: "data", mount_point: mp, state: "absent" }])).result;
    expect(actions(gone.mounts[0])).toEqual(["umount", "fstab_remove", "rmdir"]);
    expect(virtiofsMounts(w)).toEqual([]);
    expect(w.run("virtio_fs_mount", args(w, [{ tag: "data", mount_point: mp, state: "absent" }])).result.changed).toBe(
      false,
    );
  });

  test("a mount point that is itself a symlink is refused; its target keeps its mode and owner", () => {
    w = makeWorld();
    const target = path.join(w.mnt, "elsewhere");
    fs.mkdirSync(target);
    fs.chmodSync(target, 0o700);
    const mp = path.join(w.mnt, "link");
    fs.symlinkSync(target, mp);
    const a = args(w, [{ tag: "l", mount_point: mp, mode: "0755", owner: "alice", group: "staff" }]);
    for (const state of ["mounted", "present"]) {
      const { result } = w.run("virtio_fs_mount", args(w, [{ ...a.mounts[0], state }]));
      expect(result.failed).toBe(true);
      expect(result.changed).toBe(false);
      expect(result.msg).toContain(`mount point ${mp} is a symbolic link (to ${target})`);
      expect(result.msg).toContain(`set mount_point to the real directory (${target})`);
    }
    expect(fs.statSync(target).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(target).uid).toBe(process.getuid!());
    expect(callsOf(w, "mount")).toEqual([]);
    expect(fs.existsSync(w.fstab)).toBe(false);
  });

  test("a mount point whose parent is a dangling symlink is refused with the reason", () => {
    w = makeWorld();
    const link = path.join(w.mnt, "dangling");
    fs.symlinkSync(path.join(w.mnt, "nowhere"), link);
    const a = args(w, [{ tag: "d", mount_point: path.join(link, "d") }]);
    const r = w.run("virtio_fs_mount", a).result;
    expect(r.msg).toContain(`${link} is a symbolic link to a missing target`);
    expect(fs.existsSync(path.join(w.mnt, "nowhere"))).toBe(false);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });
});

describe("fstab lines are matched by normalised path", () => {
  const spellings = (mp: string) => [
    `${mp}/`,
    mp.replace(/\/([^/]+)$/, "//$1"),
    mp.replace(/\/([^/]+)$/, "/./$1"),
    mp.replace(/\/([^/]+)$/, "/x/../$1"),
  ];

  test.each([0, 1, 2, 3])(
    "an old virtiofs line spelled differently (variant %i) is replaced, not duplicated, by mounted",
    (variant) => {
      w = makeWorld();
      const mp = path.join(w.mnt, "data");
      fs.mkdirSync(mp);
      w.addMount("data", mp);
      const spelled = spellings(mp)[variant];
      w.writeFstab(`# head\ndata ${spelled} virtiofs rw,relatime,nofail 0 0\n`);
      const a = args(w, [{ tag: "data", mount_point: mp }]);
      const r = w.run("virtio_fs_mount", a).result;
      expect(r.mounts[0].actions).toEqual([
        {
          action: "fstab_update",
          why: `fstab line had mount point spelled ${spelled}, wanted data with rw,relatime,nofail`,
        },
      ]);
      expect(w.readFstab()).toBe(`# head\ndata ${mp} virtiofs rw,relatime,nofail 0 0\n`);
      expect(callsOf(w, "mount")).toEqual([]);
      expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
    },
  );

  test("present replaces a trailing-slash line too, and \\040 escapes are decoded before comparing", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "host data");
    w.writeFstab(`data ${mp.replace(" ", "\\040")}/ virtiofs rw,relatime,nofail 0 0\n`);
    const a = args(w, [{ tag: "data", mount_point: mp, state: "present" }]);
    const r = w.run("virtio_fs_mount", a).result;
    expect(actions(r.mounts[0])).toEqual(["create_dir", "fstab_update"]);
    expect(w.readFstab()).toBe(`data ${mp.replace(" ", "\\040")} virtiofs rw,relatime,nofail 0 0\n`);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("absent removes a line spelled /mnt//data or /mnt/data/", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "data");
    w.writeFstab(`data ${spellings(mp)[1]} virtiofs rw 0 0\n# mid\nold ${mp}/ virtiofs ro 0 0\n`);
    const a = args(w, [{ tag: "data", mount_point: mp, state: "absent" }]);
    const r = w.run("virtio_fs_mount", a).result;
    expect(actions(r.mounts[0])).toEqual(["fstab_remove", "fstab_remove"]);
    expect(w.readFstab()).toBe("# mid\n");
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("a non-virtiofs line for the same mount point, spelled differently, is refused naming the line", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "data");
    const line = `server:/export ${mp.replace(/\/data$/, "/./data/")} nfs defaults 0 0`;
    w.writeFstab(`# one\n${line}\n`);
    const a = args(w, [{ tag: "data", mount_point: mp }]);
    const r = w.run("virtio_fs_mount", a).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toBe(`data (${mp}): ${r.mounts[0].msg}`);
    expect(r.mounts[0].msg).toBe(
      `${mp} already has a nfs line in fstab (line 2: ${line}); remove that line or choose another mount_point for data`,
    );
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("prune keeps a wanted share's differently spelled line (replacing it) and prunes by normalised path", () => {
    w = makeWorld();
    const keep = path.join(w.mnt, "keep");
    const stale = path.join(w.mnt, "stale");
    fs.mkdirSync(keep);
    fs.mkdirSync(stale);
    w.addMount("keep", keep);
    w.addMount("stale", stale);
    w.writeFstab(`keep ${keep}/ virtiofs rw,relatime,nofail 0 0\nstale ${stale}/ virtiofs rw 0 0\n`);
    const a = args(w, [{ tag: "keep", mount_point: keep }], { prune: true });
    const r = w.run("virtio_fs_mount", a).result;
    expect(
      r.mounts.filter((m: { pruned?: boolean }) => m.pruned).map((m: { mount_point: string }) => m.mount_point),
    ).toEqual([`${stale}/`]);
    expect(w.readFstab()).toBe(`keep ${keep} virtiofs rw,relatime,nofail 0 0\n`);
    expect(virtiofsMounts(w)).toHaveLength(1);
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });
});

describe("nothing from the arguments reaches a command line as an option", () => {
  test.each(["--bind", "-a", "-o"])(
    "a tag %s (given without the schema) goes after -- to mount, umount and remount",
    (tag) => {
      w = makeWorld();
      const mp = path.join(w.mnt, "t");
      const a = args(w, [{ tag, mount_point: mp }]);
      const r = w.runWithFaults("virtio_fs_mount", a).result;
      expect(r.failed).toBeUndefined();
      expect(callsOf(w, "mount")).toEqual([["-t", "virtiofs", "-o", "rw,relatime,nofail", "--", tag, mp]]);
      expect(w.runWithFaults("virtio_fs_mount", a).result.changed).toBe(false);
      w.clearCalls();
      w.runWithFaults("virtio_fs_mount", args(w, [{ tag, mount_point: mp, readonly: true }]));
      expect(callsOf(w, "mount")).toEqual([["-o", "remount,ro,relatime,nofail", "--", mp]]);
      w.runWithFaults("virtio_fs_mount", args(w, [{ tag, mount_point: mp, state: "absent" }]));
      expect(callsOf(w, "umount")).toEqual([["--", mp]]);
      expect(virtiofsMounts(w)).toEqual([]);
    },
  );

  test("the fake mount(8) refuses an option it does not know, so a test would catch a missing --", () => {
    w = makeWorld();
    const r = require("child_process").spawnSync(path.join(w.bin, "mount"), ["-t", "virtiofs", "--bind", "x", w.mnt], {
      encoding: "utf8",
      env: { ...process.env, VIRTIO_FS_ROOT: w.root },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unrecognized option '--bind'");
  });
});

test("a path through a file is reported as such even when the kernel lists the offered tags (Linux >= 6.9)", () => {
  w = makeWorld({ tagsDir: ["good"] });
  const file = path.join(w.mnt, "f");
  fs.writeFileSync(file, "");
  const a = args(w, [
    { tag: "good", mount_point: path.join(w.mnt, "good") },
    { tag: "ghost", mount_point: path.join(file, "ghost") },
  ]);
  const r = w.run("virtio_fs_mount", a).result;
  expect(byTag(r, "ghost").msg).toBe(
    `mount point ${path.join(file, "ghost")} cannot be created: ${file} is a file, not a directory`,
  );
  expect(byTag(r, "good").changed).toBe(true);
  expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
});
