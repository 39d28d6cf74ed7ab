/**
 * Issue 12, guest side: a share whose virtiofsd is gone never hangs a module. The fake guest has
 * probes that never answer (VIRTIO_FS_PROBE_STALL: the probe child sleeps, and leaves a helper holding
 * its pipe, as a process stuck in D keeps it), probes that get an errno (VIRTIO_FS_PROBE_ERROR:
 * ENOTCONN once the host hot-unplugged the device), mount/umount programs that never return (fake
 * hang), and /proc entries of processes holding a mount. Linux has no abort for a virtio-fs
 * connection (share-health.ts), so nothing here may claim to free a share that does not answer.
 */
import * as fs from "fs";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

type Act = { action: string; why: string; failed?: boolean };
const actions = (share: { actions: Act[] }) => share.actions.map((a) => a.action);
const byTag = (result: Record<string, any>, tag: string) => result.mounts.find((m: { tag: string }) => m.tag === tag);
const stall = (...keys: string[]) => ({ VIRTIO_FS_PROBE_STALL: JSON.stringify(keys) });
const gone = (key: string) => ({ VIRTIO_FS_PROBE_ERROR: JSON.stringify({ [key]: "ENOTCONN" }) });
const probeLog = () => path.join(w.dir, "probes.log");
const probes = () =>
  fs.existsSync(probeLog())
    ? fs
        .readFileSync(probeLog(), "utf8")
        .split("\n")
        .filter((l) => l)
    : [];
const withLog = (env: Record<string, string> = {}) => ({ VIRTIO_FS_PROBE_LOG: probeLog(), ...env });
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A world with a healthy share "good" and a share "dead" whose probe never answers. */
function twoShares() {
  w = makeWorld();
  const good = path.join(w.mnt, "good");
  const dead = path.join(w.mnt, "dead");
  fs.mkdirSync(good);
  fs.mkdirSync(dead);
  w.addMount("good", good);
  const deadDev = w.addMount("dead", dead);
  w.writeFstab(`good ${good} virtiofs rw,relatime,nofail 0 0\ndead ${dead} virtiofs rw,relatime,nofail 0 0\n`);
  const mounts = [
    { tag: "good", mount_point: good },
    { tag: "dead", mount_point: dead },
  ];
  return { good, dead, deadDev, mounts };
}

describe("virtio_fs_info health", () => {
  test("a probe that never answers is 'not answering' by the deadline; the healthy share is ok", () => {
    const { good, dead } = twoShares();
    const started = Date.now();
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, stall(dead));
    const elapsed = Date.now() - started;
    expect(result.failed).toBeUndefined();
    const byMp = (mp: string) => result.virtio_fs.mounts.find((m: { mount_point: string }) => m.mount_point === mp);
    expect(byMp(dead)).toMatchObject({ health: "not answering" });
    expect(byMp(dead).health_source).toBe("a stat/statfs/readdir of the share root got no answer within 1s");
    expect(byMp(good).health).toBe("ok");
    expect(byMp(good).health_source).toContain("answered a stat, statfs and readdir");
    // 1s deadline, node start-ups included: far below the 10s the stalled probe's helper lives
    expect(elapsed).toBeLessThan(6000);
  });

  test("a share whose device is gone (ENOTCONN) is 'aborted'", () => {
    const { dead, deadDev } = twoShares();
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, gone(`dev ${deadDev}`));
    const m = result.virtio_fs.mounts.find((x: { mount_point: string }) => x.mount_point === dead);
    expect(m.health).toBe("aborted");
    expect(m.health_source).toContain(
      "stat of the share root failed with ENOTCONN: the device behind the mount is gone",
    );
  });

  test("a later run finds the probe an earlier run left waiting and sends no new request", () => {
    const { dead } = twoShares();
    const first = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, withLog(stall(dead))).result;
    expect(first.virtio_fs.mounts.find((m: { mount_point: string }) => m.mount_point === dead).health).toBe(
      "not answering",
    );
    sleep(1000); // the earlier probe is now older than the deadline
    const second = w.run("virtio_fs_info", { fstab: w.fstab, health_timeout: 1 }, withLog(stall(dead))).result;
    const m = second.virtio_fs.mounts.find((x: { mount_point: string }) => x.mount_point === dead);
    expect(m.health).toBe("not answering");
    expect(m.health_source).toMatch(/^an earlier probe of the share root \(pid \d+, virtio-fs-probe\) has waited \d+s/);
    expect(probes().filter((p) => p === dead)).toHaveLength(1);
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
      `share dead on ${dead} is not answering (a stat/statfs/readdir of the share root got no answer within 1s)`,
    );
    expect(d.msg).toContain("virsh destroy");
    expect(d.msg).toContain("Nothing in the guest can free the processes waiting on it");
    expect(d.msg).toMatch(/The probe that found this \(pid \d+, virtio-fs-probe\) stays waiting on the share/);
    expect(result.msg).toContain(`dead (${dead}): share dead`);
    // the other shares: good untouched, fresh mounted and persisted
    expect(byTag(result, "good")).toMatchObject({ changed: false, actions: [] });
    expect(byTag(result, "fresh")).toMatchObject({ changed: true });
    expect(w.readFstab()).toContain(`fresh ${fresh} virtiofs`);
    expect(callsOf(w, "umount")).toEqual([]);
    expect(w.mountinfo()).toContain(` ${dead} `);
  });

  test("state unmounted of a dead share fails and never runs a blocking umount", () => {
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

  test("recover does not touch a share that does not answer: nothing in the guest can free it", () => {
    const { dead, mounts } = twoShares();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      stall(dead),
    );
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    const d = byTag(result, "dead");
    expect(d).toMatchObject({ changed: false, actions: [] });
    expect(d.msg).toContain("recover: true changed nothing (a new mount of the tag would join the same connection)");
    expect(d.msg).toContain("virsh destroy");
    expect(w.calls()).toEqual([]);
    expect(w.mountinfo()).toContain(` ${dead} `);
  });

  test("an aborted share (device gone) fails without recover and says to run with it", () => {
    const { dead, deadDev, mounts } = twoShares();
    const { result } = w.run("virtio_fs_mount", { mounts, fstab: w.fstab, health_timeout: 1 }, gone(`dev ${deadDev}`));
    expect(result.failed).toBe(true);
    const d = byTag(result, "dead");
    expect(d).toMatchObject({ changed: false, actions: [], health: "aborted" });
    expect(d.msg).toContain(`share dead on ${dead} is aborted`);
    expect(d.msg).toContain("run with recover: true");
    expect(w.calls()).toEqual([]);
  });

  test("recover of an aborted share: unmounts lazily and mounts the tag again (the new device answers)", () => {
    const { dead, deadDev, mounts } = twoShares();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      gone(`dev ${deadDev}`),
    );
    expect(result.failed).toBeUndefined();
    const d = byTag(result, "dead");
    expect(actions(d)).toEqual(["umount_lazy", "mount"]);
    expect(d).toMatchObject({ changed: true, health: "aborted" });
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

  test("recover when the new mount does not answer either: detached again, the share fails, bounded", () => {
    const { dead, deadDev, mounts } = twoShares();
    const started = Date.now();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true },
      { ...gone(`dev ${deadDev}`), ...stall(dead) }, // the old mount is aborted, every new one stalls
    );
    expect(Date.now() - started).toBeLessThan(10000);
    expect(result.failed).toBe(true);
    const d = byTag(result, "dead");
    expect(actions(d)).toEqual(["umount_lazy", "mount", "umount_lazy"]);
    expect(d.msg).toContain(`share dead on ${dead} was mounted but is not answering`);
    expect(d.msg).toContain("it was detached again");
    expect(d.msg).toContain("virsh destroy");
    expect(w.mountinfo()).not.toContain(` ${dead} `);
  });

  test("check mode with recover reports the recovery and changes nothing", () => {
    const { dead, deadDev, mounts } = twoShares();
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts, fstab: w.fstab, health_timeout: 1, recover: true, _ansible_check_mode: true },
      gone(`dev ${deadDev}`),
    );
    expect(result.failed).toBeUndefined();
    expect(actions(byTag(result, "dead"))).toEqual(["umount_lazy", "mount"]);
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

  test("a new mount that does not answer is detached again, the probe named as left waiting", () => {
    w = makeWorld();
    const fresh = path.join(w.mnt, "fresh");
    const { result } = w.run(
      "virtio_fs_mount",
      { mounts: [{ tag: "fresh", mount_point: fresh }], fstab: w.fstab, health_timeout: 1 },
      withLog(stall(fresh)),
    );
    expect(result.failed).toBe(true);
    const f = byTag(result, "fresh");
    expect(f.msg).toContain("it was detached again");
    expect(f.msg).toMatch(/The probe that found this \(pid \d+, virtio-fs-probe\) stays waiting/);
    expect(probes()).toEqual([fresh]);
    expect(w.mountinfo()).not.toContain(` ${fresh} `);
  });

  test("a remounted share is probed once per run (its earlier answer stands)", () => {
    w = makeWorld();
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
