import * as fs from "fs";
import * as path from "path";
import { callsOf, isRoot, makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

function args(world: World, mounts: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return { mounts, fstab: world.fstab, ...extra };
}

const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;

describe("virtio_fs_mount: mounting new shares", () => {
  test("mounts first, then writes fstab, creates the mount point, reloads systemd; second run changes nothing", () => {
    w = makeWorld();
    w.writeFstab("# static\nUUID=1 / ext4 defaults 0 1\n");
    const mp = path.join(w.mnt, "datasets");
    const a = args(w, [{ tag: "datasets", mount_point: mp, mode: "0750" }]);
    const { result } = w.run("virtio_fs_mount", a, { FAKE_FSTAB: w.fstab });
    expect(result.failed).toBeUndefined();
    expect(result.changed).toBe(true);
    expect(result.fstab_changed).toBe(true);
    // when mount ran, fstab did not have the line yet
    expect(fs.readFileSync(path.join(w.bin, "fstab-at-mount.log"), "utf8")).toBe(
      JSON.stringify("# static\nUUID=1 / ext4 defaults 0 1\n") + "\n",
    );
    expect(callsOf(w, "mount")).toEqual([["-t", "virtiofs", "-o", "rw,relatime,nofail", "--", "datasets", mp]]);
    expect(w.readFstab()).toBe(
      `# static\nUUID=1 / ext4 defaults 0 1\ndatasets ${mp} virtiofs rw,relatime,nofail 0 0\n`,
    );
    expect(fs.statSync(mp).isDirectory()).toBe(true);
    expect(modeOf(mp)).toBe(0o750);
    expect(callsOf(w, "systemctl")).toEqual([["daemon-reload"]]);
    expect(result.daemon_reloaded).toBe(true);
    const share = result.mounts[0];
    expect(share).toMatchObject({ tag: "datasets", mount_point: mp, state: "mounted", changed: true });
    expect(share.actions.map((x: { action: string }) => x.action)).toEqual(["create_dir", "mount", "fstab_add"]);
    for (const act of share.actions) expect(typeof act.why).toBe("string");
    w.clearCalls();
    const again = w.run("virtio_fs_mount", a).result;
    expect(again.changed).toBe(false);
    expect(again.fstab_changed).toBe(false);
    expect(again.mounts[0].actions).toEqual([]);
    expect(w.calls()).toEqual([]);
  });

  test("readonly shares are mounted ro with ro first in the options and in fstab", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "containers");
    const { result } = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "containers", mount_point: mp, readonly: true, options: "noatime,nofail" }]),
    );
    expect(result.changed).toBe(true);
    expect(callsOf(w, "mount")[0]).toEqual(["-t", "virtiofs", "-o", "ro,noatime,nofail", "--", "containers", mp]);
    expect(w.readFstab()).toBe(`containers ${mp} virtiofs ro,noatime,nofail 0 0\n`);
    expect(w.mountinfo()).toContain(" ro,noatime ");
  });

  test("missing parents are created root-owned 0755, the mount point with owner/group/mode", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "deep", "er", "share");
    const { result } = w.run(
      "virtio_fs_mount",
      args(w, [
        {
          tag: "t",
          mount_point: mp,
          owner: isRoot ? "alice" : "admin",
          group: isRoot ? "staff" : "admin",
          mode: "2770",
        },
      ]),
    );
    expect(result.changed).toBe(true);
    expect(modeOf(path.join(w.mnt, "deep"))).toBe(0o755);
    expect(modeOf(path.join(w.mnt, "deep", "er"))).toBe(0o755);
    expect(modeOf(mp)).toBe(0o2770);
    if (isRoot) {
      expect(fs.statSync(mp).uid).toBe(1234);
      expect(fs.statSync(mp).gid).toBe(2345);
      expect(fs.statSync(path.join(w.mnt, "deep")).uid).toBe(0);
    }
    expect(result.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual([
      "create_parent_dir",
      "create_parent_dir",
      "create_dir",
      "mount",
      "fstab_add",
    ]);
  });

  test("paths with spaces: mounted with the raw path, written as \\040, idempotent against escaped mountinfo", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "host datasets");
    const a = args(w, [{ tag: "datasets", mount_point: mp }]);
    w.run("virtio_fs_mount", a);
    expect(callsOf(w, "mount")[0][6]).toBe(mp);
    expect(w.readFstab()).toBe(`datasets ${mp.replace(/ /g, "\\040")} virtiofs rw,relatime,nofail 0 0\n`);
    expect(w.mountinfo()).toContain("host\\040datasets");
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
    expect(w.calls()).toEqual([]);
  });

  test("a share whose mount fails gets no fstab line, the others are still applied", () => {
    w = makeWorld();
    w.setFake({ offered: ["good"] });
    const good = path.join(w.mnt, "good");
    const bad = path.join(w.mnt, "bad");
    const { result } = w.run(
      "virtio_fs_mount",
      args(w, [
        { tag: "bad", mount_point: bad },
        { tag: "good", mount_point: good },
      ]),
    );
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(true);
    expect(w.readFstab()).toBe(`good ${good} virtiofs rw,relatime,nofail 0 0\n`);
    expect(result.mounts[0]).toMatchObject({ tag: "bad", failed: true });
    expect(result.mounts[1]).toMatchObject({ tag: "good", changed: true });
    expect(result.mounts[1].failed).toBeUndefined();
  });
});

describe("virtio_fs_mount: changes on mounted shares", () => {
  function mounted(world: World, tag: string, mp: string, perMount: string, fstabOpts: string) {
    fs.mkdirSync(mp, { recursive: true });
    world.addMount(tag, mp, perMount);
    world.writeFstab(`${tag} ${mp} virtiofs ${fstabOpts} 0 0\n`);
  }

  test("rw -> ro is applied live with mount -o remount and written to fstab", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime,nofail");
    const a = args(w, [{ tag: "d", mount_point: mp, readonly: true }]);
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.changed).toBe(true);
    expect(callsOf(w, "mount")).toEqual([["-o", "remount,ro,relatime,nofail", "--", mp]]);
    expect(callsOf(w, "umount")).toEqual([]);
    expect(w.readFstab()).toBe(`d ${mp} virtiofs ro,relatime,nofail 0 0\n`);
    expect(w.mountinfo()).toContain(" ro,relatime shared:");
    expect(result.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual(["remount", "fstab_update"]);
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("ro -> rw: the mounted state is compared with mountinfo, not only fstab", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    // fstab already says rw, but the share is mounted ro: must remount
    mounted(w, "d", mp, "ro,relatime", "rw,relatime,nofail");
    const { result } = w.run("virtio_fs_mount", args(w, [{ tag: "d", mount_point: mp }]));
    expect(result.changed).toBe(true);
    expect(result.fstab_changed).toBe(false);
    expect(callsOf(w, "mount")).toEqual([["-o", "remount,rw,relatime,nofail", "--", mp]]);
    expect(callsOf(w, "systemctl")).toEqual([]);
  });

  test("other VFS options (noexec) are remounted live", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime,nofail");
    const { result } = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "d", mount_point: mp, options: "noexec,relatime,nofail" }]),
    );
    expect(callsOf(w, "mount")).toEqual([["-o", "remount,rw,noexec,relatime,nofail", "--", mp]]);
    expect(result.mounts[0].actions[0].why).toContain("noexec");
  });

  test("file-system specific option changes (compared with the fstab line) remount", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime,nofail");
    const a = args(w, [{ tag: "d", mount_point: mp, options: "relatime,nofail,dax=inode" }]);
    w.run("virtio_fs_mount", a);
    expect(callsOf(w, "mount")).toEqual([["-o", "remount,rw,relatime,nofail,dax=inode", "--", mp]]);
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("only userspace options changed (nofail): fstab updated, no remount", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime");
    const { result } = w.run("virtio_fs_mount", args(w, [{ tag: "d", mount_point: mp }]));
    expect(result.changed).toBe(true);
    expect(callsOf(w, "mount")).toEqual([]);
    expect(w.readFstab()).toBe(`d ${mp} virtiofs rw,relatime,nofail 0 0\n`);
  });

  test("when the kernel refuses the remount, the share is unmounted and mounted again", () => {
    w = makeWorld();
    w.setFake({ remountFail: true });
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime,nofail");
    const { result } = w.run("virtio_fs_mount", args(w, [{ tag: "d", mount_point: mp, readonly: true }]));
    expect(result.failed).toBeUndefined();
    expect(callsOf(w, "mount")).toEqual([
      ["-o", "remount,ro,relatime,nofail", "--", mp],
      ["-t", "virtiofs", "-o", "ro,relatime,nofail", "--", "d", mp],
    ]);
    expect(callsOf(w, "umount")).toEqual([["--", mp]]);
    expect(result.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual([
      "remount",
      "umount",
      "mount",
      "fstab_update",
    ]);
  });

  test("a remount that reports success but changes nothing falls back to unmount + mount", () => {
    w = makeWorld();
    w.setFake({ remountNoop: true });
    const mp = path.join(w.mnt, "d");
    mounted(w, "d", mp, "rw,relatime", "rw,relatime,nofail");
    w.run("virtio_fs_mount", args(w, [{ tag: "d", mount_point: mp, readonly: true }]));
    expect(callsOf(w, "umount")).toEqual([["--", mp]]);
    expect(w.mountinfo()).toContain(" ro,relatime shared:");
  });

  test("another tag mounted on the mount point is replaced", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    mounted(w, "old", mp, "rw,relatime", "old-line-will-be-replaced");
    w.writeFstab(`old ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    const { result } = w.run("virtio_fs_mount", args(w, [{ tag: "new", mount_point: mp }]));
    expect(result.changed).toBe(true);
    expect(callsOf(w, "umount")).toEqual([["--", mp]]);
    expect(callsOf(w, "mount")).toEqual([["-t", "virtiofs", "-o", "rw,relatime,nofail", "--", "new", mp]]);
    expect(w.readFstab()).toBe(`new ${mp} virtiofs rw,relatime,nofail 0 0\n`);
  });
});

describe("virtio_fs_mount: states", () => {
  test("present writes fstab only and creates the mount point; perform_mounts false turns mounted into present", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "p");
    let r = w.run("virtio_fs_mount", args(w, [{ tag: "p", mount_point: mp, state: "present" }])).result;
    expect(r.changed).toBe(true);
    expect(callsOf(w, "mount")).toEqual([]);
    expect(fs.existsSync(mp)).toBe(true);
    expect(w.readFstab()).toBe(`p ${mp} virtiofs rw,relatime,nofail 0 0\n`);

    const mp2 = path.join(w.mnt, "q");
    r = w.run(
      "virtio_fs_mount",
      args(
        w,
        [
          { tag: "p", mount_point: mp, state: "present" },
          { tag: "q", mount_point: mp2 },
        ],
        { perform_mounts: false },
      ),
    ).result;
    expect(r.mounts[1].state).toBe("present");
    expect(callsOf(w, "mount")).toEqual([]);
    expect(w.readFstab()).toContain(`q ${mp2} virtiofs`);
  });

  test("unmounted unmounts and keeps the fstab line as it is", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "u");
    fs.mkdirSync(mp);
    w.addMount("u", mp);
    const fstab = `u ${mp} virtiofs rw,relatime 0 0`;
    w.writeFstab(fstab);
    const a = args(w, [{ tag: "u", mount_point: mp, state: "unmounted" }]);
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.changed).toBe(true);
    expect(callsOf(w, "umount")).toEqual([["--", mp]]);
    expect(w.readFstab()).toBe(fstab);
    expect(w.mountinfo()).not.toContain("virtiofs");
    expect(fs.existsSync(mp)).toBe(true);
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
    expect(w.calls()).toEqual([]);
  });

  test("absent unmounts, removes the fstab line and the empty mount point; a non-empty one is kept", () => {
    w = makeWorld();
    const empty = path.join(w.mnt, "gone");
    const full = path.join(w.mnt, "full");
    fs.mkdirSync(empty);
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, "keep"), "x");
    w.addMount("gone", empty);
    w.writeFstab(
      `# keep me\ngone ${empty} virtiofs rw 0 0\nfull ${full} virtiofs rw 0 0\nproc /proc proc defaults 0 0\n`,
    );
    const a = args(w, [
      { tag: "gone", mount_point: empty, state: "absent" },
      { tag: "full", mount_point: full, state: "absent" },
    ]);
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.changed).toBe(true);
    expect(callsOf(w, "umount")).toEqual([["--", empty]]);
    expect(w.readFstab()).toBe("# keep me\nproc /proc proc defaults 0 0\n");
    expect(fs.existsSync(empty)).toBe(false);
    expect(fs.existsSync(full)).toBe(true);
    expect(result.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual([
      "umount",
      "fstab_remove",
      "rmdir",
    ]);
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("persist false mounts without touching fstab", () => {
    w = makeWorld();
    w.writeFstab("# untouched");
    const mp = path.join(w.mnt, "np");
    const { result } = w.run("virtio_fs_mount", args(w, [{ tag: "np", mount_point: mp }], { persist: false }));
    expect(result.changed).toBe(true);
    expect(result.fstab_changed).toBe(false);
    expect(callsOf(w, "mount")).toHaveLength(1);
    expect(w.readFstab()).toBe("# untouched");
    expect(callsOf(w, "systemctl")).toEqual([]);
  });

  test("prune unmounts and removes virtiofs shares not in mounts, leaves other file systems", () => {
    w = makeWorld();
    const keep = path.join(w.mnt, "keep");
    const stale = path.join(w.mnt, "stale");
    const staleLineOnly = path.join(w.mnt, "line only");
    for (const d of [keep, stale, staleLineOnly]) fs.mkdirSync(d);
    w.addMount("keep", keep);
    w.addMount("stale", stale);
    w.writeFstab(
      `keep ${keep} virtiofs rw,relatime,nofail 0 0\nstale ${stale} virtiofs rw 0 0\nold ${staleLineOnly.replace(" ", "\\040")} virtiofs ro 0 0\ntmpfs /tmp tmpfs defaults 0 0\n`,
    );
    const a = args(w, [{ tag: "keep", mount_point: keep }], { prune: true });
    const { result } = w.run("virtio_fs_mount", a);
    expect(result.changed).toBe(true);
    expect(callsOf(w, "umount")).toEqual([["--", stale]]);
    expect(w.readFstab()).toBe(`keep ${keep} virtiofs rw,relatime,nofail 0 0\ntmpfs /tmp tmpfs defaults 0 0\n`);
    const pruned = result.mounts.filter((m: { pruned?: boolean }) => m.pruned);
    expect(pruned.map((m: { tag: string }) => m.tag).sort()).toEqual(["old", "stale"]);
    expect(fs.existsSync(stale)).toBe(false);
    w.clearCalls();
    expect(w.run("virtio_fs_mount", a).result.changed).toBe(false);
  });

  test("without prune, unrelated virtiofs lines stay", () => {
    w = makeWorld();
    const other = `other /srv/other virtiofs rw 0 0\n`;
    w.writeFstab(other);
    const mp = path.join(w.mnt, "x");
    w.run("virtio_fs_mount", args(w, [{ tag: "x", mount_point: mp }]));
    expect(w.readFstab().startsWith(other)).toBe(true);
  });
});

describe("virtio_fs_mount: check mode and diff", () => {
  test("check mode changes nothing and predicts changed; on a converged system it predicts no change", () => {
    w = makeWorld({ moduleLoaded: false });
    const before = "# c\nUUID=1 / ext4 defaults 0 1";
    w.writeFstab(before);
    const mp = path.join(w.mnt, "cm");
    const a = args(w, [{ tag: "cm", mount_point: mp }]);
    const r = w.run("virtio_fs_mount", { ...a, _ansible_check_mode: true }).result;
    expect(r.changed).toBe(true);
    expect(r.fstab_changed).toBe(true);
    expect(r.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual(["create_dir", "mount", "fstab_add"]);
    expect(r.kernel_module.actions.map((x: { action: string }) => x.action)).toEqual(["modprobe", "modules_load"]);
    expect(w.calls()).toEqual([]);
    expect(w.readFstab()).toBe(before);
    expect(fs.existsSync(mp)).toBe(false);
    expect(fs.existsSync(path.join(w.root, "etc/modules-load.d/virtiofs.conf"))).toBe(false);

    w.run("virtio_fs_mount", a);
    w.clearCalls();
    const r2 = w.run("virtio_fs_mount", { ...a, _ansible_check_mode: true }).result;
    expect(r2.changed).toBe(false);
    expect(w.calls()).toEqual([]);
  });

  test("check mode predicts a remount and an absent share without doing them", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "d");
    const gone = path.join(w.mnt, "gone");
    fs.mkdirSync(mp);
    fs.mkdirSync(gone);
    fs.writeFileSync(path.join(gone, "file-on-the-share"), "x"); // what a mounted share shows
    w.addMount("d", mp);
    w.addMount("gone", gone);
    const fstab = `d ${mp} virtiofs rw,relatime,nofail 0 0\ngone ${gone} virtiofs rw 0 0\n`;
    w.writeFstab(fstab);
    const mi = w.mountinfo();
    const r = w.run("virtio_fs_mount", {
      ...args(w, [
        { tag: "d", mount_point: mp, readonly: true },
        { tag: "gone", mount_point: gone, state: "absent" },
      ]),
      _ansible_check_mode: true,
    }).result;
    expect(r.changed).toBe(true);
    expect(r.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual(["remount", "fstab_update"]);
    expect(r.mounts[1].actions.map((x: { action: string }) => x.action)).toEqual(["umount", "fstab_remove", "rmdir"]);
    expect(w.calls()).toEqual([]);
    expect(w.readFstab()).toBe(fstab);
    expect(w.mountinfo()).toBe(mi);
    expect(fs.existsSync(gone)).toBe(true);
  });

  test("diff mode returns fstab before/after with headers", () => {
    w = makeWorld();
    w.writeFstab("# c\n");
    const mp = path.join(w.mnt, "df");
    const r = w.run("virtio_fs_mount", { ...args(w, [{ tag: "df", mount_point: mp }]), _ansible_diff: true }).result;
    expect(r.diff).toEqual({
      before: "# c\n",
      after: `# c\ndf ${mp} virtiofs rw,relatime,nofail 0 0\n`,
      before_header: `${w.fstab} (before)`,
      after_header: `${w.fstab} (after)`,
    });
    const noDiff = w.run("virtio_fs_mount", args(w, [{ tag: "df", mount_point: mp }])).result;
    expect(noDiff.diff).toBeUndefined();
  });
});

describe("virtio_fs_mount: fstab handling", () => {
  test("comments, order, odd spacing and a missing trailing newline are kept; an equivalent line is not rewritten", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "sp ace");
    fs.mkdirSync(mp);
    w.addMount("odd", mp);
    const text = `#  comment   with  spaces\n\nUUID=1\t/\text4   errors=remount-ro\t0 1\nodd    ${mp.replace(" ", "\\040")}\tvirtiofs   rw,relatime,nofail\n# trailer`;
    w.writeFstab(text);
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "odd", mount_point: mp }])).result;
    expect(r.changed).toBe(false);
    expect(w.readFstab()).toBe(text);
  });

  test("an update rewrites only that line, keeps the rest and the missing trailing newline", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "u");
    fs.mkdirSync(mp);
    w.addMount("u", mp);
    w.writeFstab(`# head\nu   ${mp}  virtiofs rw,relatime,nofail\n# tail no newline`);
    w.run("virtio_fs_mount", args(w, [{ tag: "u", mount_point: mp, options: "relatime,nofail,noexec" }]));
    expect(w.readFstab()).toBe(`# head\nu ${mp} virtiofs rw,relatime,nofail,noexec 0 0\n# tail no newline`);
  });

  test("duplicate lines for the mount point are collapsed into one", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "dup");
    fs.mkdirSync(mp);
    w.addMount("dup", mp);
    w.writeFstab(`dup ${mp} virtiofs rw,relatime,nofail 0 0\n# mid\ndup ${mp} virtiofs ro 0 0\n`);
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "dup", mount_point: mp }])).result;
    expect(r.changed).toBe(true);
    expect(w.readFstab()).toBe(`dup ${mp} virtiofs rw,relatime,nofail 0 0\n# mid\n`);
  });

  test("the fstab file is replaced atomically keeping its mode", () => {
    w = makeWorld();
    w.writeFstab("# x\n");
    fs.chmodSync(w.fstab, 0o640);
    w.run("virtio_fs_mount", args(w, [{ tag: "m", mount_point: path.join(w.mnt, "m") }]));
    expect(modeOf(w.fstab)).toBe(0o640);
    expect(fs.readdirSync(path.dirname(w.fstab)).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  test("backup keeps a timestamped copy of the old fstab and returns its path", () => {
    w = makeWorld();
    w.writeFstab("# old\n");
    const r = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "b", mount_point: path.join(w.mnt, "b") }], { backup: true }),
    ).result;
    expect(typeof r.backup_file).toBe("string");
    expect(r.backup_file.startsWith(`${w.fstab}.`)).toBe(true);
    expect(fs.readFileSync(r.backup_file, "utf8")).toBe("# old\n");
    const again = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "b", mount_point: path.join(w.mnt, "b") }], { backup: true }),
    ).result;
    expect(again.backup_file).toBeUndefined();
  });

  test("a missing fstab is created", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "n");
    w.run("virtio_fs_mount", args(w, [{ tag: "n", mount_point: mp }]));
    expect(w.readFstab()).toBe(`n ${mp} virtiofs rw,relatime,nofail 0 0\n`);
  });

  test("no daemon-reload when systemd is not PID 1", () => {
    w = makeWorld({ systemd: false });
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "n", mount_point: path.join(w.mnt, "n") }])).result;
    expect(r.fstab_changed).toBe(true);
    expect(callsOf(w, "systemctl")).toEqual([]);
    expect(r.daemon_reloaded).toBe(false);
  });

  test("a non-virtiofs fstab line on the mount point fails the share", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "nfs");
    w.writeFstab(`server:/x ${mp} nfs defaults 0 0\n`);
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "n", mount_point: mp }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("nfs line in fstab");
    expect(callsOf(w, "mount")).toEqual([]);
  });
});

describe("virtio_fs_mount: kernel module", () => {
  test("modprobe when not loaded and modules-load.d written once", () => {
    w = makeWorld({ moduleLoaded: false });
    const a = args(w, []);
    const r = w.run("virtio_fs_mount", a).result;
    expect(r.changed).toBe(true);
    expect(callsOf(w, "modprobe")).toEqual([["--", "virtiofs"]]);
    expect(fs.readFileSync(path.join(w.root, "etc/modules-load.d/virtiofs.conf"), "utf8")).toBe("virtiofs\n");
    w.clearCalls();
    const r2 = w.run("virtio_fs_mount", a).result;
    expect(r2.changed).toBe(false);
    expect(callsOf(w, "modprobe")).toEqual([]);
  });

  test("a builtin virtiofs listed in /proc/filesystems is not modprobed", () => {
    w = makeWorld({ moduleLoaded: false });
    fs.appendFileSync(path.join(w.root, "proc/filesystems"), "nodev\tvirtiofs\n");
    w.run("virtio_fs_mount", args(w, []));
    expect(callsOf(w, "modprobe")).toEqual([]);
  });

  test("load_module false does neither", () => {
    w = makeWorld({ moduleLoaded: false });
    const r = w.run("virtio_fs_mount", args(w, [], { load_module: false })).result;
    expect(r.changed).toBe(false);
    expect(callsOf(w, "modprobe")).toEqual([]);
    expect(fs.existsSync(path.join(w.root, "etc/modules-load.d/virtiofs.conf"))).toBe(false);
  });

  test("a missing module fails with what to install", () => {
    w = makeWorld({ moduleLoaded: false });
    w.setFake({ noModule: true });
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "t", mount_point: path.join(w.mnt, "t") }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("virtiofs kernel module is missing");
    expect(r.msg).toContain("linux-image-");
    expect(r.msg).toContain("Module virtiofs not found");
    expect(callsOf(w, "mount")).toEqual([]);
  });

  test("mount saying unknown filesystem type is diagnosed as the missing module", () => {
    w = makeWorld();
    w.setFake({ unknownFs: true });
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "t", mount_point: path.join(w.mnt, "t") }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("does not know the virtiofs file system");
    expect(r.msg).toContain("kernel package");
  });
});

describe("virtio_fs_mount: diagnostics", () => {
  test("mount operations (bind, move, helper=, loop, propagation) in options or default_options are refused before anything runs", () => {
    w = makeWorld();
    w.writeFstab("# nothing\n");
    const share = { tag: "data", mount_point: path.join(w.mnt, "d") };
    const own = w.run("virtio_fs_mount", args(w, [{ ...share, options: "bind,nofail" }])).result;
    expect(own.failed).toBe(true);
    expect(own.msg).toContain('/mounts/0/options: options contain "bind", a mount operation');
    const dflt = w.run("virtio_fs_mount", args(w, [share], { default_options: "rw,helper=x,rslave" })).result;
    expect(dflt.msg).toContain('/default_options: options contain "helper=x"');
    expect(dflt.msg).toContain('"rslave"');
    expect(callsOf(w, "mount")).toEqual([]);
    expect(w.readFstab()).toBe("# nothing\n");
    expect(
      w.run("virtio_fs_mount", args(w, [{ ...share, options: "nofail,silent,x-systemd.automount" }])).result.failed,
    ).toBeUndefined();
  });

  test("a tag the VM does not offer: the message names the tag, the domain XML fix and the dmesg line", () => {
    w = makeWorld();
    w.setFake({ offered: ["other"], dmesg: "[   12.3] virtio-fs: tag <missing> not found\n" });
    w.writeFstab("# nothing\n");
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "missing", mount_point: path.join(w.mnt, "m") }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('virtio-fs tag "missing" is not offered by this VM');
    expect(r.msg).toContain("<target dir='missing'/>");
    expect(r.msg).toContain("virtio-fs: tag <missing> not found");
    expect(r.msg).toContain("wrong fs type");
    expect(w.readFstab()).toBe("# nothing\n");
  });

  test("a failed mount removes the mount point and parents this run created, and keeps what existed", () => {
    w = makeWorld();
    w.setFake({ offered: ["other"] });
    const mp = path.join(w.mnt, "new-parent", "m");
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "missing", mount_point: mp }])).result;
    expect(r.failed).toBe(true);
    expect(fs.existsSync(path.join(w.mnt, "new-parent"))).toBe(false);
    expect(r.mounts[0].actions.map((x: { action: string }) => x.action)).toEqual([
      "create_parent_dir",
      "create_dir",
      "mount",
      "rmdir",
    ]);
    expect(r.mounts[0].actions[3].why).toBe(
      `the mount failed; removed what this run created: ${mp}, ${path.join(w.mnt, "new-parent")}`,
    );
    expect(fs.existsSync(w.mnt)).toBe(true);
    const existing = path.join(w.mnt, "kept");
    fs.mkdirSync(existing);
    expect(w.run("virtio_fs_mount", args(w, [{ tag: "missing", mount_point: existing }])).result.failed).toBe(true);
    expect(fs.existsSync(existing)).toBe(true);
  });

  test("with /sys/fs/virtiofs (Linux >= 6.9) a missing tag fails before mounting and lists the offered tags", () => {
    w = makeWorld({ tagsDir: ["datasets", "containers"] });
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "missing", mount_point: path.join(w.mnt, "m") }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("The VM offers: datasets, containers");
    expect(r.msg).toContain("<target dir='missing'/>");
    expect(callsOf(w, "mount")).toEqual([]);
    const ok = w.run("virtio_fs_mount", args(w, [{ tag: "datasets", mount_point: path.join(w.mnt, "d") }])).result;
    expect(ok.failed).toBeUndefined();
  });

  test("a busy mount point on unmount names it and the processes holding it (none here)", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "busy");
    fs.mkdirSync(mp);
    w.addMount("busy", mp);
    w.setFake({ busy: [mp] });
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "busy", mount_point: mp, state: "unmounted" }])).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain(`cannot unmount ${mp}: the mount point is busy`);
    expect(r.msg).toContain("; no process holds it");
  });

  test("an unknown owner fails a rw share and names the user; for a ro share it is only a warning", () => {
    w = makeWorld();
    const rw = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "t", mount_point: path.join(w.mnt, "t"), owner: "nobody_here" }]),
    ).result;
    expect(rw.failed).toBe(true);
    expect(rw.msg).toContain('user "nobody_here" is unknown to NSS');
    expect(callsOf(w, "mount")).toEqual([]);
    const ro = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "r", mount_point: path.join(w.mnt, "r"), readonly: true, group: "no_group" }]),
    ).result;
    expect(ro.failed).toBeUndefined();
    expect(ro.warnings.join(" ")).toContain('group "no_group" is unknown to NSS');
    expect(callsOf(w, "mount").map((c) => c[5])).toEqual(["r"]);
  });

  test("argument combinations the schema cannot check are refused with their pointers", () => {
    w = makeWorld();
    const r = w.run(
      "virtio_fs_mount",
      args(w, [
        { tag: "a", mount_point: "/mnt/a" },
        { tag: "a", mount_point: "/mnt/a/inner" },
        { tag: "c", mount_point: "/mnt/a", options: "ro,nofail" },
        { tag: "d", mount_point: "/mnt/x/../y" },
      ]),
    ).result;
    expect(r.failed).toBe(true);
    // The same rules and words as `vfsgen validate` (src/runtime/check-shares.ts).
    expect(r.msg).toContain('/mounts/1/tag: duplicate tag "a": already used by /mounts/0');
    expect(r.msg).toContain(
      '/mounts/1/mount_point: mount point "/mnt/a/inner" is inside the share mounted at "/mnt/a" (/mounts/0)',
    );
    expect(r.msg).toContain('/mounts/2/mount_point: duplicate mount point "/mnt/a": already used by /mounts/0');
    expect(r.msg).toContain('/mounts/2/options: options contain "ro" but readonly is false');
    expect(r.msg).toContain(
      '/mounts/3/mount_point: mount point "/mnt/x/../y" is not normalised: it contains a .. component',
    );
    expect(w.calls()).toEqual([]);
  });
});

describe("virtio_fs_mount: owner/group/mode semantics", () => {
  test("an unmounted existing mount point is corrected to owner/group/mode", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "fix");
    fs.mkdirSync(mp, { mode: 0o700 });
    fs.chmodSync(mp, 0o700);
    if (isRoot) fs.chownSync(mp, 1234, 2345);
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "fix", mount_point: mp, mode: "0755" }])).result;
    const acts = r.mounts[0].actions.map((x: { action: string }) => x.action);
    expect(acts).toContain("chmod");
    if (isRoot) {
      expect(acts).toContain("chown");
      expect(fs.statSync(mp).uid).toBe(process.getuid!());
    }
    expect(modeOf(mp)).toBe(0o755);
  });

  test("a mounted share root is never chowned or chmodded; a rw share with another owner gets a warning", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "mounted");
    fs.mkdirSync(mp);
    fs.chmodSync(mp, 0o700);
    w.addMount("mounted", mp);
    w.writeFstab(`mounted ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    const owner = isRoot ? "alice" : "admin";
    const r = w.run("virtio_fs_mount", args(w, [{ tag: "mounted", mount_point: mp, owner, mode: "0755" }])).result;
    expect(r.changed).toBe(false);
    expect(modeOf(mp)).toBe(0o700);
    if (isRoot) {
      expect(fs.statSync(mp).uid).toBe(0);
      expect(r.warnings.join(" ")).toContain("does not chown a mounted share");
    }
    const ro = w.run("virtio_fs_mount", args(w, [{ tag: "mounted", mount_point: mp, owner, readonly: true }])).result;
    expect((ro.warnings ?? []).join(" ")).not.toContain("does not chown");
  });

  test("create_mount_dirs false: a missing mount point fails, an existing one is left as is", () => {
    w = makeWorld();
    const missing = path.join(w.mnt, "missing");
    const r = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "m", mount_point: missing }], { create_mount_dirs: false }),
    ).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("create_mount_dirs is false");
    const there = path.join(w.mnt, "there");
    fs.mkdirSync(there);
    fs.chmodSync(there, 0o700);
    const ok = w.run(
      "virtio_fs_mount",
      args(w, [{ tag: "t", mount_point: there }], { create_mount_dirs: false }),
    ).result;
    expect(ok.failed).toBeUndefined();
    expect(modeOf(there)).toBe(0o700);
  });
});
