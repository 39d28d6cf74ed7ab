/**
 * Issue 12, guest side: a share whose virtiofsd is gone never hangs a module. The fake guest has a
 * fusectl directory (sys/fs/fuse/connections/N/{waiting,abort}), probes that never answer
 * (VIRTIO_FS_PROBE_STALL: the probe child sleeps, and leaves a helper holding its pipe, as a process
 * stuck in D keeps it), mount/umount programs that never return (fake hang), and /proc entries of
 * processes holding a mount.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

type Act = { action: string; why: string; failed?: boolean };
const actions = (share: { actions: Act[] }) => share.actions.map((a) => a.action);
const byTag = (result: Record<string, any>, tag: string) => result.mounts.find((m: { tag: string }) => m.tag === tag);
const stall = (...keys: string[]) => ({ VIRTIO_FS_PROBE_STALL: JSON.stringify(keys) });
const lazyLog = (world: World) => {
  const f = path.join(world.bin, "lazy.log");
  return fs.existsSync(f)
    ? fs
        .readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l))
    : [];
};

/** A world with fusectl, a healthy share "good" and a share "dead" whose probe never answers. */
function twoShares() {
  w = makeWorld();
  const good = path.join(w.mnt, "good");
  const dead = path.join(w.mnt, "dead");
  fs.mkdirSync(good);
  fs.mkdirSync(dead);
  w.addMount("good", good);
  w.addFuseConnection(good);
  const deadDev = w.addMount("dead", dead);
  const conn = w.addFuseConnection(dead);
  w.writeFstab(`good ${good} virtiofs rw,relatime,nofail 0 0\ndead ${dead} virtiofs rw,relatime,nofail 0 0\n`);
  const mounts = [
    { tag: "good", mount_point: good },
    { tag: "dead", mount_point: dead },
  ];
  return { good, dead, deadDev, conn, mounts };
}

describe("virtio_fs_info health", () => {
  test("a probe that never answers is 'not answering' by the deadline; the healthy share is ok", () => {
    const { good, dead } = twoShares();
    const started = Date.now();
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, stall(dead));
    const elapsed = Date.now() - started;
    expect(result.failed).toBeUndefined();
    const byMp = (mp: string) => result.virtio_fs.mounts.find((m: { mount_point: string }) => m.mount_point === mp);
    expect(byMp(dead)).toMatchObject({ health: "not answering", fuse_connection: expect.any(String) });
    expect(byMp(dead).health_source).toMatch(/no answer within 1s .*waiting: 0/);
    expect(byMp(good).health).toBe("ok");
    expect(byMp(good).health_source).toContain("answered a stat, statfs and readdir");
    // 1s deadline, node start-ups included: far below the 10s the stalled probe's helper lives
    expect(elapsed).toBeLessThan(6000);
  });

  test("fusectl waiting that never goes down is 'not answering' without sending a request", () => {
    const { dead, conn } = twoShares();
    fs.writeFileSync(path.join(conn, "waiting"), "3\n");
    // no stall hook: a probe would answer ok, so only the waiting count can give this verdict
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 });
    const m = result.virtio_fs.mounts.find((x: { mount_point: string }) => x.mount_point === dead);
    expect(m.health).toBe("not answering");
    expect(m.health_source).toBe(
      `/sys/fs/fuse/connections/${path.basename(conn)}/waiting stayed at 3 unanswered request(s) for 1s without going down (no request sent)`,
    );
  });

  test("a waiting count that goes down is a slow share, probed and ok", () => {
    const { dead, conn } = twoShares();
    fs.writeFileSync(path.join(conn, "waiting"), "3\n");
    const waiting = path.join(conn, "waiting");
    // another process answers one request 300 ms into the run (the module runs synchronously here)
    fs.writeFileSync(
      path.join(w.bin, "drainer.js"),
      `setTimeout(() => require("fs").writeFileSync(${JSON.stringify(waiting)}, "1\\n"), 300);`,
    );
    const drainer = spawn(process.execPath, [path.join(w.bin, "drainer.js")], { stdio: "ignore" });
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 3 });
    drainer.kill();
    const m = result.virtio_fs.mounts.find((x: { mount_point: string }) => x.mount_point === dead);
    expect(m.health).toBe("ok");
  });
});

describe("virtio_fs_mount on a dead share", () => {
  test("fails the dead share with the tag, mount point, observation and host action; applies the others; returns by the deadline", () => {
    const { dead, mounts } = twoShares();
    const fresh = path.join(w.mnt, "fresh");
    const started = Date.now();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts: [...mounts, { tag: "fresh", mount_point: fresh }], fstab: w.fstab, health_timeout: 1 },
      stall(dead),
    );
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.failed).toBe(true);
    const d = byTag(result, "dead");
    expect(d).toMatchObject({ failed: true, changed: false, actions: [], health: "not answering" });
    expect(d.msg).toContain(
      `share dead on ${dead} is not answering (a stat/statfs/readdir of the share root got no answer within 1s`,
    );
    expect(d.msg).toContain("virsh destroy");
    expect(d.msg).toContain("recover: true");
    expect(result.msg).toContain(`dead (${dead}): share dead`);
    // the other shares: good untouched, fresh mounted and persisted
    expect(byTag(result, "good")).toMatchObject({ changed: false, actions: [] });
    expect(byTag(result, "fresh")).toMatchObject({ changed: true });
    expect(w.readFstab()).toContain(`fresh ${fresh} virtiofs`);
    expect(callsOf(w, "umount")).toEqual([]);
    expect(w.mountinfo()).toContain(` ${dead} `);
  });

  test("state unmounted of a dead share fails without recover and never runs a blocking umount", () => {
    const { dead } = twoShares();
    w.setFake({ hang: [dead] });
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts: [{ tag: "dead", mount_point: dead, state: "unmounted" }], fstab: w.fstab, health_timeout: 1 },
      stall(dead),
    );
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    expect(byTag(result, "dead").msg).toContain("is not answering");
    expect(callsOf(w, "umount")).toEqual([]);
  });

  test("recover: aborts the connection, unmounts lazily (in that order), mounts again once the tag answers", () => {
    const { dead, deadDev, conn, mounts } = twoShares();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      stall(`dev ${deadDev}`),
    );
    expect(result.failed).toBeUndefined();
    const d = byTag(result, "dead");
    expect(actions(d)).toEqual(["abort_connection", "umount_lazy", "mount"]);
    expect(d).toMatchObject({ changed: true, health: "not answering" });
    expect(fs.readFileSync(path.join(conn, "abort"), "utf8")).toBe("1\n");
    expect(lazyLog(w)).toEqual([{ mp: dead, abort: "1\n" }]);
    expect(callsOf(w, "umount")).toEqual([["-l", "--", dead]]);
    expect(callsOf(w, "mount")).toEqual([["-t", "virtiofs", "-o", "rw,relatime,nofail", "--", "dead", dead]]);
    expect(byTag(result, "good")).toMatchObject({ changed: false, actions: [] });
    // the new mount answers: the next run changes nothing
    const again = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, health_timeout: 1, recover: true }).result;
    expect(again.changed).toBe(false);
    expect(
      w
        .mountinfo()
        .split("\n")
        .filter((l) => l.includes(` ${dead} `)),
    ).toHaveLength(1);
  });

  test("recover never aborts on the waiting count alone: a share that then answers a probe is left alone", () => {
    const { dead, conn, mounts } = twoShares();
    fs.writeFileSync(path.join(conn, "waiting"), "1\n"); // e.g. a long blocking lock request
    const { result } = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, health_timeout: 1, recover: true });
    expect(result.failed).toBeUndefined();
    expect(result.changed).toBe(false);
    expect(byTag(result, "dead")).toMatchObject({ changed: false, actions: [] });
    expect(result.warnings.join(" ")).toContain(`share dead on ${dead}: /sys/fs/fuse/connections/`);
    expect(fs.existsSync(path.join(conn, "abort"))).toBe(false);
    expect(w.calls()).toEqual([]);
  });

  test("recover confirms a stuck waiting count with a probe before aborting", () => {
    const { dead, conn, mounts } = twoShares();
    fs.writeFileSync(path.join(conn, "waiting"), "1\n");
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      stall(
        `dev ${
          w
            .mountinfo()
            .split("\n")
            .find((l) => l.includes(` ${dead} `))!
            .split(" ")[2]
        }`,
      ),
    );
    expect(result.failed).toBeUndefined();
    expect(actions(byTag(result, "dead"))).toEqual(["abort_connection", "umount_lazy", "mount"]);
    expect(byTag(result, "dead").health_source).toContain("waiting stayed at 1");
  });

  test("recover while the host still does not serve the tag: the new mount is detached again and the share fails, bounded", () => {
    const { dead, mounts } = twoShares();
    const started = Date.now();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      stall(dead), // every mount at that path stalls
    );
    expect(Date.now() - started).toBeLessThan(10000);
    expect(result.failed).toBe(true);
    const d = byTag(result, "dead");
    expect(actions(d)).toEqual(["abort_connection", "umount_lazy", "mount", "abort_connection", "umount_lazy"]);
    expect(d.msg).toContain(`share dead on ${dead} was mounted but is not answering`);
    expect(d.msg).toContain("it was unmounted again");
    expect(d.msg).toContain("virsh destroy");
    expect(w.mountinfo()).not.toContain(` ${dead} `);
    expect(lazyLog(w).map((l) => l.abort)).toEqual(["1\n", "1\n"]);
  });

  test("check mode with recover reports the recovery and changes nothing", () => {
    const { dead, deadDev, conn, mounts } = twoShares();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true, _ansible_check_mode: true },
      stall(`dev ${deadDev}`),
    );
    expect(result.failed).toBeUndefined();
    expect(actions(byTag(result, "dead"))).toEqual(["abort_connection", "umount_lazy", "mount"]);
    expect(fs.existsSync(path.join(conn, "abort"))).toBe(false);
    expect(w.calls()).toEqual([]);
    expect(w.mountinfo()).toContain(` ${dead} `);
  });

  test("an umount that never returns is abandoned at the deadline", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "stuck");
    fs.mkdirSync(mp);
    w.addMount("stuck", mp);
    w.setFake({ hang: [mp] });
    const started = Date.now();
    const { result } = w.run("virtio_fs_mount", {
      mounts: [{ tag: "stuck", mount_point: mp, state: "unmounted" }],
      fstab: w.fstab,
      health_timeout: 1,
    });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(result.failed).toBe(true);
    expect(byTag(result, "stuck").msg).toContain(
      `cannot unmount ${mp}: umount did not return within 1s (health_timeout)`,
    );
    expect(byTag(result, "stuck").changed).toBe(false);
  });
});

describe("fusectl not mounted (a guest whose fuse module was loaded after boot)", () => {
  const probeLog = () => path.join(w.dir, "probes.log");
  const probes = () =>
    fs.existsSync(probeLog())
      ? fs
          .readFileSync(probeLog(), "utf8")
          .split("\n")
          .filter((l) => l)
      : [];
  const withLog = (env: Record<string, string> = {}) => ({ VIRTIO_FS_PROBE_LOG: probeLog(), ...env });
  const fusectlArgs = () => ["-t", "fusectl", "--", "fusectl", path.join(w.root, "sys/fs/fuse/connections")];

  /** A guest with the empty connections directory and one share "dead" mounted earlier. */
  function deadWithoutFusectl() {
    w = makeWorld({ fusectl: "unmounted" });
    const dead = path.join(w.mnt, "dead");
    fs.mkdirSync(dead);
    const deadDev = w.addMount("dead", dead);
    w.writeFstab(`dead ${dead} virtiofs rw,relatime,nofail 0 0\n`);
    const conn = path.join(w.root, "sys/fs/fuse/connections", deadDev.split(":")[1]);
    return { dead, deadDev, conn, mounts: [{ tag: "dead", mount_point: dead }] };
  }

  test("virtio_fs_info reports it missing, mounts nothing and says what a probe costs without it", () => {
    const { dead } = deadWithoutFusectl();
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, withLog(stall(dead)));
    expect(result.changed).toBe(false);
    expect(result.virtio_fs.fusectl_mounted).toBe(false);
    expect(result.virtio_fs.mounts[0].health).toBe("not answering");
    expect(result.virtio_fs.mounts[0].health_source).toContain(
      "fusectl is not mounted at /sys/fs/fuse/connections: no waiting count to read, and no abort",
    );
    expect(w.calls()).toEqual([]);
    expect(w.mountinfo()).not.toContain(" - fusectl ");
    expect(probes()).toEqual([dead]); // one probe per share
    w.cleanup();
    w = makeWorld({ fusectl: "mounted" });
    expect(w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs.fusectl_mounted).toBe(true);
  });

  test("virtio_fs_mount mounts fusectl before probing, then aborts through it on recover", () => {
    const { dead, deadDev, mounts } = deadWithoutFusectl();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      withLog(stall(`dev ${deadDev}`)),
    );
    expect(result.failed).toBeUndefined();
    expect(result.fusectl).toEqual({
      mounted: true,
      changed: true,
      actions: [
        { action: "mount_fusectl", why: expect.stringContaining("fusectl is not mounted on /sys/fs/fuse/connections") },
      ],
    });
    // the fusectl mount comes first; the probe then reads the connection fusectl lists
    expect(callsOf(w, "mount")[0]).toEqual(fusectlArgs());
    const d = byTag(result, "dead");
    expect(d.health_source).toMatch(/no answer within 1s \(\/sys\/fs\/fuse\/connections\/\d+\/waiting: 0\)/);
    expect(actions(d)).toEqual(["abort_connection", "umount_lazy", "mount"]);
    const conn = path.join(w.root, "sys/fs/fuse/connections", deadDev.split(":")[1]);
    expect(fs.readFileSync(path.join(conn, "abort"), "utf8")).toBe("1\n");
    expect(lazyLog(w)).toEqual([{ mp: dead, abort: "1\n" }]);
    expect(result.msg).toContain("fusectl mounted on /sys/fs/fuse/connections");
    // fusectl stays mounted: the next run changes nothing
    const again = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, health_timeout: 1, recover: true }).result;
    expect(again.changed).toBe(false);
    expect(again.fusectl).toEqual({ mounted: true, changed: false, actions: [] });
  });

  test("without recover: one probe, a message saying it stays blocked and what frees it; the next run reads waiting and sends none", () => {
    const { dead, deadDev, conn, mounts } = deadWithoutFusectl();
    const first = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1 },
      withLog(stall(`dev ${deadDev}`)),
    ).result;
    expect(first.failed).toBe(true);
    expect(first.fusectl.actions.map((a: Act) => a.action)).toEqual(["mount_fusectl"]);
    expect(probes()).toEqual([dead]);
    const msg = byTag(first, "dead").msg;
    expect(msg).toMatch(/The probe that found this \(pid \d+, virtio-fs-probe\) stays waiting on the share/);
    expect(msg).toContain(
      "until its connection is aborted (recover: true) or the domain restarts on the host (virsh destroy + virsh start)",
    );
    expect(msg).toContain("a run starts at most one probe per share, and none while its waiting count stays up");
    // the abandoned probe's request is what a real connection now counts as waiting
    fs.writeFileSync(path.join(conn, "waiting"), "1\n");
    const second = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, health_timeout: 1 }, withLog()).result;
    expect(second.failed).toBe(true);
    expect(byTag(second, "dead").health_source).toContain("waiting stayed at 1");
    expect(probes()).toEqual([dead]); // still the first run's probe only
    expect(callsOf(w, "mount")).toEqual([fusectlArgs()]);
  });

  test("recover is refused, changing nothing, when fusectl cannot be mounted (no abort: the share cannot be freed)", () => {
    const { dead, deadDev, mounts } = deadWithoutFusectl();
    w.setFake({ fusectlFail: true });
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      withLog(stall(`dev ${deadDev}`)),
    );
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    expect(result.fusectl).toMatchObject({
      mounted: false,
      changed: false,
      actions: [{ action: "mount_fusectl", failed: true }],
    });
    expect(result.warnings.join(" ")).toContain("cannot mount fusectl on /sys/fs/fuse/connections");
    const d = byTag(result, "dead");
    expect(d).toMatchObject({ changed: false, actions: [] });
    expect(d.msg).toContain("recover: true cannot free it: its FUSE connection is aborted through fusectl");
    expect(d.msg).toContain("permission denied");
    expect(d.msg).toContain("virsh destroy");
    expect(d.msg).toContain("a run starts at most one probe per share.");
    expect(probes()).toEqual([dead]);
    expect(callsOf(w, "umount")).toEqual([]);
    expect(w.mountinfo()).toContain(` ${dead} `);
  });

  test("a new mount that does not answer, with no fusectl: detached without an abort, the probe named as left waiting", () => {
    w = makeWorld({ fusectl: "unmounted" });
    w.setFake({ fusectlFail: true });
    const fresh = path.join(w.mnt, "fresh");
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts: [{ tag: "fresh", mount_point: fresh }], fstab: w.fstab, health_timeout: 1 },
      withLog(stall(fresh)),
    );
    expect(result.failed).toBe(true);
    const f = byTag(result, "fresh");
    expect(actions(f)).toEqual(["create_dir", "mount", "umount_lazy", "rmdir"]);
    expect(f.msg).toContain("it was unmounted again");
    expect(f.msg).toMatch(/The probe that found this \(pid \d+, virtio-fs-probe\) stays waiting/);
    expect(result.warnings.join(" ")).toContain("cannot be aborted without fusectl: what waits on it (probe pid");
    expect(probes()).toEqual([fresh]);
    expect(w.mountinfo()).not.toContain(` ${fresh} `);
  });

  test("a remounted share is probed once per run (its earlier answer stands)", () => {
    w = makeWorld({ fusectl: "mounted" });
    const mp = path.join(w.mnt, "data");
    fs.mkdirSync(mp);
    w.addMount("data", mp, "rw,relatime");
    w.writeFstab(`data ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts: [{ tag: "data", mount_point: mp, readonly: true }], fstab: w.fstab },
      withLog(),
    );
    expect(result.failed).toBeUndefined();
    expect(actions(byTag(result, "data"))).toContain("remount");
    expect(probes()).toEqual([mp]);
  });

  test("check mode plans the fusectl mount and runs nothing", () => {
    const { mounts } = deadWithoutFusectl();
    const { result } = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, _ansible_check_mode: true });
    expect(result.changed).toBe(true);
    expect(result.fusectl).toMatchObject({ mounted: false, changed: true, actions: [{ action: "mount_fusectl" }] });
    expect(w.calls()).toEqual([]);
    expect(w.mountinfo()).not.toContain(" - fusectl ");
  });
});

describe("busy mount points", () => {
  test("a busy unmount names the processes holding the mount and changes nothing", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "busy");
    fs.mkdirSync(mp);
    const dev = w.addMount("busy", mp);
    w.writeFstab(`busy ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    w.setFake({ busy: [mp] });
    const proc = (pid: number, comm: string) => {
      const d = path.join(w.root, "proc", String(pid));
      fs.mkdirSync(path.join(d, "fd"), { recursive: true });
      fs.writeFileSync(path.join(d, "comm"), `${comm}\n`);
      fs.symlinkSync("/", path.join(d, "root"));
      fs.symlinkSync("/root", path.join(d, "cwd"));
      fs.writeFileSync(path.join(d, "maps"), "55d0c000-55d0d000 r--p 00000000 08:01 1234 /usr/bin/x\n");
      return d;
    };
    fs.symlinkSync(mp, path.join(proc(4242, "bash"), "cwd.tmp"));
    fs.rmSync(path.join(w.root, "proc/4242/cwd"));
    fs.renameSync(path.join(w.root, "proc/4242/cwd.tmp"), path.join(w.root, "proc/4242/cwd"));
    const py = proc(777, "python3");
    fs.symlinkSync(path.join(mp, "data.csv"), path.join(py, "fd/3"));
    fs.symlinkSync("/dev/null", path.join(py, "fd/1"));
    const [maj, min] = dev.split(":").map(Number);
    const hexDev = `${maj.toString(16).padStart(2, "0")}:${min.toString(16).padStart(2, "0")}`;
    fs.writeFileSync(path.join(proc(31, "sleeper"), "maps"), `7f00-7f10 r-xp 00000000 ${hexDev} 99 ${mp}/lib.so\n`);
    proc(5, "unrelated");
    const { result } = w.run("virtio_fs_mount", {
      mounts: [{ tag: "busy", mount_point: mp, state: "unmounted" }],
      fstab: w.fstab,
    });
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    const b = byTag(result, "busy");
    expect(b.changed).toBe(false);
    expect(b.holders).toEqual([
      { pid: 31, comm: "sleeper", uses: ["maps"] },
      { pid: 777, comm: "python3", uses: ["fd 3"] },
      { pid: 4242, comm: "bash", uses: ["cwd"] },
    ]);
    expect(b.msg).toContain(`cannot unmount ${mp}: the mount point is busy`);
    expect(b.msg).toContain("held by 31 (sleeper: maps), 777 (python3: fd 3), 4242 (bash: cwd)");
    expect(w.readFstab()).toBe(`busy ${mp} virtiofs rw,relatime,nofail 0 0\n`);
  });
});

describe("host directory gone", () => {
  test("a share root the probe cannot find fails mounted with what to do on the host; unmounting it still works", () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "gone");
    // the fake's share root is the mount point directory itself: removing it is what a guest sees
    // (ENOENT on the root) when virtiofsd no longer finds the shared directory
    w.addMount("gone", mp);
    w.writeFstab(`gone ${mp} virtiofs rw,relatime,nofail 0 0\n`);
    const info = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }).result;
    expect(info.virtio_fs.mounts[0]).toMatchObject({ health: "host directory gone" });
    expect(info.virtio_fs.mounts[0].health_source).toContain("ENOENT");

    const mounted = w.run("virtio_fs_mount", { mounts: [{ tag: "gone", mount_point: mp }], fstab: w.fstab }).result;
    expect(mounted.failed).toBe(true);
    expect(byTag(mounted, "gone")).toMatchObject({ changed: false, health: "host directory gone" });
    expect(byTag(mounted, "gone").msg).toContain("recreate the directory");
    expect(byTag(mounted, "gone").msg).toContain("virsh destroy + virsh start");

    const unmounted = w.run("virtio_fs_mount", {
      mounts: [{ tag: "gone", mount_point: mp, state: "unmounted" }],
      fstab: w.fstab,
    }).result;
    expect(unmounted.failed).toBeUndefined();
    expect(actions(byTag(unmounted, "gone"))).toEqual(["umount"]);
    expect(callsOf(w, "umount")).toEqual([["--", mp]]);
  });
});
