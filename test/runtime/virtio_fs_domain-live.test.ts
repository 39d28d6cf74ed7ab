/**
 * virtio_fs_domain on a running domain: the health of each share's virtiofsd (read from a fake /proc
 * and libvirt's pid files), hot-plug, hot-unplug and live replacement through the fake virsh, and the
 * restart the operator may allow.
 */
import * as fs from "fs";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";
import { sharedDirOf } from "../../src/runtime/virtiofsd-health";

let w: World;
afterEach(() => w?.cleanup());

const device = (
  tag: string,
  dir: string,
  alias: string,
  bus: number,
) => `    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <source dir='${dir}'/>
      <target dir='${tag}'/>
      <alias name='${alias}'/>
      <address type='pci' domain='0x0000' bus='0x0${bus}' slot='0x00' function='0x0'/>
    </filesystem>
`;
const domainXml = (devices: string) => `<domain type='kvm'>
  <name>ctl</name>
  <uuid>6f1b3c1e-1111-2222-3333-444455556666</uuid>
  <memory unit='KiB'>2097152</memory>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${devices}  </devices>
</domain>
`;

interface Setup {
  runDir: string;
  dir: (name: string) => string;
  share: (tag: string) => { tag: string; host_path: string; mount_point: string };
  /** Both the persistent and the live XML hold these devices. */
  define: (devices: string, live?: string) => void;
  /** A virtiofsd process serving dir; parent: a C-style parent whose root is the host's. */
  daemon: (pid: number, dir: string, opts?: { alias?: string; argv?: string[]; parent?: number }) => void;
  /** Moves a shared directory; /proc/PID/root follows it, as the kernel's link to the dentry does. */
  move: (from: string, to: string, pid: number) => void;
  run: (args: Record<string, unknown>) => Record<string, any>;
  devicesLog: () => [string, string][];
}

function setup(opts: { emptyProc?: boolean } = {}): Setup {
  w = makeWorld();
  // init, as on any host (an empty /proc means the processes cannot be seen at all)
  if (!opts.emptyProc) fs.writeFileSync(path.join(w.root, "proc/1/stat"), "1 (init) S 0 1");
  const runDir = path.join(w.dir, "run-libvirt-qemu");
  fs.mkdirSync(runDir);
  w.setFake({ domstate: "running", libvirtVersion: "9.0.0", domid: "3", runDir });
  const dir = (name: string) => {
    const d = path.join(w.dir, "shares", name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const domains = path.join(w.bin, "domains");
  return {
    runDir,
    dir,
    share: (tag) => ({ tag, host_path: path.join(w.dir, "shares", tag), mount_point: `/mnt/${tag}` }),
    define: (devices, live) => {
      fs.writeFileSync(path.join(domains, "ctl.xml"), domainXml(devices));
      fs.writeFileSync(path.join(domains, "ctl.live.xml"), domainXml(live ?? devices));
    },
    daemon: (pid, d, opts = {}) => {
      const proc = path.join(w.root, "proc", String(pid));
      fs.mkdirSync(proc, { recursive: true });
      const argv = opts.argv ?? ["/usr/libexec/virtiofsd", "--fd=3", "--shared-dir", d];
      fs.writeFileSync(path.join(proc, "cmdline"), argv.join("\0") + "\0");
      fs.writeFileSync(path.join(proc, "stat"), `${pid} (virtiofsd) S ${opts.parent ?? 1} 0`);
      fs.symlinkSync(d, path.join(proc, "root"));
      if (opts.alias) fs.writeFileSync(path.join(runDir, `3-ctl-${opts.alias}-fs.pid`), `${opts.parent ?? pid}\n`);
      if (opts.parent !== undefined) {
        // the C virtiofsd's parent: same command line, the host's root
        const pproc = path.join(w.root, "proc", String(opts.parent));
        fs.mkdirSync(pproc, { recursive: true });
        fs.writeFileSync(path.join(pproc, "cmdline"), argv.join("\0") + "\0");
        fs.writeFileSync(path.join(pproc, "stat"), `${opts.parent} (virtiofsd) S 1 0`);
        fs.symlinkSync(w.root, path.join(pproc, "root"));
      }
    },
    move: (from, to, pid) => {
      fs.renameSync(from, to);
      const link = path.join(w.root, "proc", String(pid), "root");
      fs.rmSync(link);
      fs.symlinkSync(to, link);
    },
    run: (args) => w.run("virtio_fs_domain", { name: "ctl", run_dir: runDir, timeout: 5, ...args }).result,
    devicesLog: () => {
      const f = path.join(w.bin, "devices.log");
      return fs.existsSync(f)
        ? fs
            .readFileSync(f, "utf8")
            .split("\n")
            .filter((l) => l)
            .map((l) => JSON.parse(l))
        : [];
    },
  };
}

describe("virtiofsd command lines", () => {
  test("the shared directory is read from the C and the Rust daemon's options", () => {
    expect(sharedDirOf(["/usr/lib/qemu/virtiofsd", "--fd=32", "-o", "source=/srv/a"])).toBe("/srv/a");
    expect(sharedDirOf(["virtiofsd", "-o", "source=/srv/a,,b,cache=always,xattr"])).toBe("/srv/a,b");
    expect(sharedDirOf(["virtiofsd", "-ocache=none,source=/srv/c"])).toBe("/srv/c");
    expect(sharedDirOf(["/usr/libexec/virtiofsd", "--fd=3", "--shared-dir", "/srv/d", "--readonly"])).toBe("/srv/d");
    expect(sharedDirOf(["/usr/libexec/virtiofsd", "--shared-dir=/srv/e"])).toBe("/srv/e");
    expect(sharedDirOf(["/usr/libexec/virtiofsd", "--fd=3"])).toBeUndefined();
  });
});

describe("virtio_fs_domain on a running domain", () => {
  test("a live virtiofsd serving host_path is healthy: nothing is done", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    const r = s.run({ mounts: [s.share("data")] });
    expect(r.failed).toBeUndefined();
    expect(r).toMatchObject({ changed: false, unhealthy: [], restart_required: false, restarted: false });
    expect(r.share_health).toEqual([expect.objectContaining({ tag: "data", status: "ok", pid: 4242 })]);
    expect(s.devicesLog()).toEqual([]);
  });

  test("the virtiofsd path libvirt shows in the live XML is no difference", () => {
    const s = setup();
    const withBinary = device("data", s.dir("data"), "fs0", 1).replace(
      "<driver type='virtiofs' queue='1024'/>",
      "<driver type='virtiofs' queue='1024'/>\n      <binary path='/usr/lib/qemu/virtiofsd'/>",
    );
    s.define(device("data", s.dir("data"), "fs0", 1), withBinary);
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    const r = s.run({ mounts: [s.share("data")] });
    expect(r).toMatchObject({ changed: false, restart_required: false });
  });

  test("the C virtiofsd: the pid file names the parent, the child's root is the served directory", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4243, s.dir("data"), {
      alias: "fs0",
      parent: 4242,
      argv: ["/usr/lib/qemu/virtiofsd", "--fd=32", "-o", `source=${s.dir("data")}`],
    });
    const ok = s.run({ mounts: [s.share("data")] });
    expect(ok.share_health[0]).toMatchObject({ status: "ok", pid: 4242 });
    // the directory moved away and another created at host_path: the child still serves the old inode
    s.move(s.dir("data"), path.join(w.dir, "shares", "moved"), 4243);
    fs.mkdirSync(path.join(w.dir, "shares", "data"));
    const r = s.run({ mounts: [s.share("data")], live_update: false });
    expect(r.share_health[0]).toMatchObject({ status: "host directory replaced", pid: 4242 });
    expect(r.unhealthy).toEqual(["data"]);
  });

  test("a dead virtiofsd is reported and its device replaced live; the next run changes nothing", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    fs.writeFileSync(path.join(s.runDir, "3-ctl-fs0-fs.pid"), "4242\n"); // no process 4242
    const r = s.run({ mounts: [s.share("data")] });
    expect(r.failed).toBeUndefined();
    expect(r).toMatchObject({
      changed: true,
      unhealthy: ["data"],
      restart_required: false,
      live: { attached: [], detached: [], replaced: ["data"], failed: {} },
    });
    expect(r.share_health[0]).toMatchObject({ tag: "data", status: "virtiofsd dead" });
    expect(r.warnings.join(" ")).toContain("share data: virtiofsd dead");
    expect(r.msg).toContain("replaced data live");
    const log = s.devicesLog();
    expect(log.map((l) => l[0])).toEqual(["detach-device", "attach-device"]);
    expect(log[0][1]).toContain("<alias name='fs0'/>");
    expect(log[1][1]).toContain(`<source dir='${s.dir("data")}'/>`);
    expect(log[1][1]).not.toContain("<alias");
    const again = s.run({ mounts: [s.share("data")] });
    expect(again).toMatchObject({ changed: false, unhealthy: [], restart_required: false });
    expect(again.share_health[0].status).toBe("ok");
  });

  test("a pid reused by another program counts as dead", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0", argv: ["/usr/bin/sleep", "100"] });
    const r = s.run({ mounts: [s.share("data")], live_update: false });
    expect(r.share_health[0]).toMatchObject({ status: "virtiofsd dead", pid: 4242 });
    expect(r.restart_required).toBe(true);
  });

  test("without a pid file, a virtiofsd serving the device's directory is found by scanning /proc", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(5150, s.dir("data"), {
      argv: ["/usr/lib/qemu/virtiofsd", "--fd=32", "-o", `source=${s.dir("data")},cache=always`],
    });
    const ok = s.run({ mounts: [s.share("data")] });
    expect(ok.share_health[0]).toMatchObject({ status: "ok", pid: 5150 });
    expect(ok.share_health[0].detail).toContain("process scan");
    fs.rmSync(path.join(w.root, "proc", "5150"), { recursive: true });
    const dead = s.run({ mounts: [s.share("data")], live_update: false });
    expect(dead.share_health[0]).toMatchObject({ status: "virtiofsd dead" });
    expect(dead.share_health[0].detail).toContain(`no virtiofsd process serves ${s.dir("data")}`);
  });

  test("a dead virtiofsd without live update needs a restart; allowed, the domain is destroyed and started", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    fs.writeFileSync(path.join(s.runDir, "3-ctl-fs0-fs.pid"), "4242\n");
    const r = s.run({ mounts: [s.share("data")], live_update: false });
    expect(r).toMatchObject({ changed: false, restart_required: true, restarted: false, unhealthy: ["data"] });
    expect(r.msg).toContain("restart the domain to apply data");
    expect(s.devicesLog()).toEqual([]);
    w.clearCalls();
    const restarted = s.run({ mounts: [s.share("data")], live_update: false, restart_allowed: true });
    expect(restarted).toMatchObject({ changed: true, restart_required: false, restarted: true });
    const verbs = callsOf(w, "virsh").map((c) => c[1]);
    expect(verbs.indexOf("destroy")).toBeGreaterThan(-1);
    expect(verbs.indexOf("start")).toBe(verbs.indexOf("destroy") + 1);
  });

  test("a host directory moved away is reported, never replaced or restarted (libvirt could not serve it)", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    s.move(s.dir("data"), path.join(w.dir, "shares", "elsewhere"), 4242);
    const r = s.run({ mounts: [s.share("data")], restart_allowed: true });
    expect(r.share_health[0]).toMatchObject({ status: "host directory gone", pid: 4242 });
    expect(r.share_health[0].detail).toContain("no longer a directory");
    expect(r).toMatchObject({ changed: false, unhealthy: ["data"], restarted: false });
    expect(r.warnings.join(" ")).toContain("share data: host directory gone");
    expect(s.devicesLog()).toEqual([]);
    expect(callsOf(w, "virsh").some((c) => c[1] === "destroy")).toBe(false);
  });

  test("a host directory replaced by another one: the device is replaced so virtiofsd serves host_path", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    s.move(s.dir("data"), path.join(w.dir, "shares", "old"), 4242);
    fs.mkdirSync(path.join(w.dir, "shares", "data"));
    const r = s.run({ mounts: [s.share("data")] });
    expect(r.share_health[0]).toMatchObject({ status: "host directory replaced" });
    expect(r.live.replaced).toEqual(["data"]);
  });

  test("a new share is hot-plugged into the running domain instead of asking for a restart", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    s.dir("more");
    const r = s.run({ mounts: [s.share("data"), s.share("more")] });
    expect(r).toMatchObject({ changed: true, added: ["more"], restart_required: false });
    expect(r.live).toEqual({ attached: ["more"], detached: [], replaced: [], failed: {} });
    expect(r.share_health).toEqual([
      expect.objectContaining({ tag: "data", status: "ok" }),
      expect.objectContaining({ tag: "more", status: "not attached" }),
    ]);
    expect(r.msg).toContain("hot-plugged more");
    const again = s.run({ mounts: [s.share("data"), s.share("more")] });
    expect(again).toMatchObject({ changed: false, restart_required: false });
    expect(again.share_health.map((h: any) => h.status)).toEqual(["ok", "ok"]);
  });

  test("a hot-plug libvirt refuses (no free PCIe root port) leaves a restart to do", () => {
    const s = setup();
    s.define("");
    s.dir("more");
    w.setFake({
      domstate: "running",
      libvirtVersion: "9.0.0",
      domid: "3",
      runDir: s.runDir,
      attachFail: "error: internal error: No more available PCI slots",
    });
    const r = s.run({ mounts: [s.share("more")] });
    expect(r).toMatchObject({ changed: true, added: ["more"], restart_required: true });
    expect(r.live.failed.more).toContain("No more available PCI slots");
    expect(r.warnings.join(" ")).toContain("No more available PCI slots");
  });

  test("a failed attach after the detach of a replacement puts the old device back", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    fs.writeFileSync(path.join(s.runDir, "3-ctl-fs0-fs.pid"), "4242\n");
    w.setFake({
      domstate: "running",
      libvirtVersion: "9.0.0",
      domid: "3",
      runDir: s.runDir,
      attachFail: "error: boom",
    });
    const r = s.run({ mounts: [s.share("data")] });
    expect(r.live.failed.data).toContain("attach: ");
    expect(r.restart_required).toBe(true);
    // detach, attach (refused), attach of the old device (refused too by this fake)
    expect(s.devicesLog().map((l) => l[0])).toEqual(["detach-device", "attach-device", "attach-device"]);
    expect(s.devicesLog()[2][1]).not.toContain("<alias");
  });

  test("a share removed from the configuration is hot-unplugged", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1) + device("old", s.dir("old"), "fs1", 2));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    s.daemon(4243, s.dir("old"), { alias: "fs1" });
    const r = s.run({ mounts: [s.share("data")] });
    expect(r).toMatchObject({ changed: true, removed: ["old"], restart_required: false });
    expect(r.live.detached).toEqual(["old"]);
  });

  test("a healthy device that differs from the configuration waits for a restart (the guest's mount keeps working)", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    s.daemon(4242, s.dir("data"), { alias: "fs0" });
    const r = s.run({ mounts: [{ ...s.share("data"), queue_size: 512 }] });
    expect(r).toMatchObject({ changed: true, updated: ["data"], restart_required: true });
    expect(s.devicesLog()).toEqual([]);
  });

  test("check mode reports the dead share and what would be done, and changes nothing", () => {
    const s = setup();
    s.define(device("data", s.dir("data"), "fs0", 1));
    fs.writeFileSync(path.join(s.runDir, "3-ctl-fs0-fs.pid"), "4242\n");
    const r = s.run({ mounts: [s.share("data")], _ansible_check_mode: true });
    expect(r).toMatchObject({ changed: true, unhealthy: ["data"], restart_required: false });
    expect(s.devicesLog()).toEqual([]);
    const restart = s.run({
      mounts: [s.share("data")],
      live_update: false,
      restart_allowed: true,
      _ansible_check_mode: true,
    });
    expect(restart).toMatchObject({ changed: true, restarted: true });
    expect(callsOf(w, "virsh").some((c) => c[1] === "destroy")).toBe(false);
  });
});

describe("virtio_fs_domain where no process is visible", () => {
  test("an empty /proc (a chroot without it) makes the health unknown and nothing is replaced", () => {
    const s = setup({ emptyProc: true });
    s.define(device("data", s.dir("data"), "fs0", 1));
    const r = s.run({ mounts: [s.share("data")] });
    expect(r.share_health[0]).toMatchObject({ tag: "data", status: "unknown" });
    expect(r).toMatchObject({ changed: false, unhealthy: [], restart_required: false });
    expect(r.warnings.join(" ")).toContain("virtiofsd not checked");
    expect(s.devicesLog()).toEqual([]);
  });
});
