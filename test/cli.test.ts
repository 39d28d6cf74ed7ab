import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import execa from "execa";
import { ROOT, tmpDir, vfsgen } from "./helpers/tools";

const SEED = "test/valid/seed-cluster.yml";

describe("vfsgen CLI", () => {
  it("prints help with every command", async () => {
    const r = await vfsgen(["--help"]);
    expect(r.exitCode).toBe(0);
    for (const c of ["generate", "validate", "render", "inventory"]) expect(r.stdout).toContain(c);
  });

  it("exits 2 on a usage error", async () => {
    expect((await vfsgen(["frobnicate"])).exitCode).toBe(2);
    expect((await vfsgen(["validate"])).exitCode).toBe(2);
    expect((await vfsgen(["render", SEED, "--domain-type", "xen"])).exitCode).toBe(2);
  });

  it("accepts the seed's cluster configuration and its runtime vars with a one-line summary", async () => {
    const r = await vfsgen(["validate", SEED, "test/valid/seed-runtime-vars.yml"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("valid: 2 file(s), 1 VM(s), 3 share(s)\n");
  });

  it("reports a missing file as a diagnostic, not a stack trace", async () => {
    const r = await vfsgen(["validate", "test/valid/nope.yml"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("test/valid/nope.yml:1:1: error[VFS002] (document): cannot read file: no such file\n");
  });

  it("renders the domain of each VM, escaping what it interpolates", async () => {
    const r = await vfsgen(["render", SEED]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("<name>hpc-controller</name>");
    expect(r.stdout).toContain("<source type='memfd'/>");
    expect(r.stdout).toContain("<target dir='datasets'/>");
    expect(r.stdout).not.toContain("<readonly/>");
    const ro = await vfsgen(["render", SEED, "--vm", "controller", "--libvirt-version", "11.0.0"]);
    expect(ro.stdout.match(/<readonly\/>/g)).toHaveLength(1);
    // the read-only mechanism: auto below 11 is the wrapper; guest writes nothing host-side and warns
    expect(r.stdout).toContain("<binary path='/usr/local/libexec/virtio-fs/virtiofsd-readonly'/>");
    expect(r.stderr).toBe("");
    const el = await vfsgen(["render", SEED, "--vm", "controller", "--readonly-mechanism", "readonly"]);
    expect(el.stdout.match(/<readonly\/>/g)).toHaveLength(1);
    const guest = await vfsgen(["render", SEED, "--vm", "controller", "--readonly-mechanism", "guest"]);
    expect(guest.exitCode).toBe(0);
    expect(guest.stdout).not.toMatch(/<readonly\/>|virtiofsd-readonly/);
    expect(guest.stderr).toBe(
      "vfsgen: warning: hpc-controller: read-only shares containers are read-only in the guest only (--readonly-mechanism guest); guest root can remount them rw and write to the host directory\n",
    );
    // the wrapper's place is the operator's choice, as for the host role (and escaped like any value)
    const moved = await vfsgen(["render", SEED, "--vm", "controller", "--readonly-wrapper-path", "/opt/v&fs/ro wrap"]);
    expect(moved.exitCode).toBe(0);
    expect(moved.stdout).toContain("<binary path='/opt/v&amp;fs/ro wrap'/>");
    expect(moved.stdout).not.toContain("/usr/local/libexec/virtio-fs/virtiofsd-readonly");
    const missing = await vfsgen(["render", SEED, "--vm", "nosuch"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("error[VFS061]");
  });

  it("refuses to render a vars file (no VM to render)", async () => {
    const r = await vfsgen(["render", "test/valid/seed-runtime-vars.yml"]);
    expect(r.exitCode).toBe(2);
  });

  it("writes an inventory with a group per cluster and the shares as host vars", async () => {
    const r = await vfsgen(["inventory", SEED]);
    expect(r.exitCode).toBe(0);
    // configuration strings are tagged !unsafe (Ansible never templates them): strings to a reader
    const unsafe = new yaml.Type("!unsafe", { kind: "scalar", construct: (s: string | null) => s ?? "" });
    const inv = yaml.load(r.stdout, { schema: yaml.DEFAULT_SCHEMA.extend([unsafe]) }) as any;
    const host = inv.all.children.hpc.hosts["hpc-controller"];
    expect(host.ansible_host).toBe("192.168.100.10");
    expect(host.virtio_fs_mounts.map((m: any) => m.tag)).toEqual(["datasets", "containers"]);
  });

  it("runs from any directory", async () => {
    const r = await vfsgen(["validate", path.join(ROOT, SEED)], tmpDir("cwd"));
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(path.join(ROOT, SEED))).toBe(true);
  });

  it("says what is wrong with the command line: missing or extra FILE, unparsable options (exit 2, VFS060)", async () => {
    const cases: [string[], string][] = [
      [
        ["render"],
        "vfsgen: error[VFS060] usage: missing required argument 'file' (vfsgen render --help shows the usage)\n",
      ],
      [
        ["inventory"],
        "vfsgen: error[VFS060] usage: missing required argument 'file' (vfsgen inventory --help shows the usage)\n",
      ],
      [
        ["validate"],
        "vfsgen: error[VFS060] usage: missing required argument 'file' (vfsgen validate --help shows the usage)\n",
      ],
      [
        ["render", SEED, SEED],
        "vfsgen: error[VFS060] usage: too many arguments for 'render'. Expected 1 argument but got 2 (vfsgen render --help shows the usage)\n",
      ],
      [
        ["inventory", SEED, "extra"],
        "vfsgen: error[VFS060] usage: too many arguments for 'inventory'. Expected 1 argument but got 2 (vfsgen inventory --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--libvirt-version", "nine"],
        "vfsgen: error[VFS060] usage: option '--libvirt-version <version>' argument 'nine' is invalid. expected a version such as \"9.0.0\" (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--libvirt-version", "11"],
        "vfsgen: error[VFS060] usage: option '--libvirt-version <version>' argument '11' is invalid. expected a version such as \"9.0.0\" (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--readonly-mechanism", "host"],
        "vfsgen: error[VFS060] usage: option '--readonly-mechanism <mechanism>' argument 'host' is invalid. expected one of auto, readonly, wrapper, guest (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--readonly-mechanism", "Wrapper"],
        "vfsgen: error[VFS060] usage: option '--readonly-mechanism <mechanism>' argument 'Wrapper' is invalid. expected one of auto, readonly, wrapper, guest (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--readonly-wrapper-path", "bin/wrapper"],
        "vfsgen: error[VFS060] usage: option '--readonly-wrapper-path <path>' argument 'bin/wrapper' is invalid. expected an absolute path (starting with /) without control characters (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--domain-type", "xen"],
        "vfsgen: error[VFS060] usage: option '--domain-type <type>' argument 'xen' is invalid. expected one of kvm, qemu (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--image-dir", "images"],
        "vfsgen: error[VFS060] usage: option '--image-dir <dir>' argument 'images' is invalid. expected an absolute path (starting with /) without control characters (vfsgen render --help shows the usage)\n",
      ],
      [
        ["render", SEED, "--image-dir", "/srv/\uffff"],
        "vfsgen: error[VFS060] usage: option '--image-dir <dir>' argument '/srv/\uffff' is invalid. expected an absolute path (starting with /) without control characters (vfsgen render --help shows the usage)\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await vfsgen(args);
      expect([args, r.exitCode, r.stderr]).toEqual([args, 2, stderr]);
      expect(r.stdout).toBe("");
    }
  });

  it("stops reading a device, a FIFO or a huge file at the size limit, and reads a FIFO that has a writer", async () => {
    const { MAX_CONFIG_BYTES } = await import("../src/input/limits");
    const dir = tmpDir("devices");
    const huge = path.join(dir, "huge.yml");
    fs.writeFileSync(huge, `a: "${"x".repeat(MAX_CONFIG_BYTES)}"\n`);
    const limit = `file is larger than ${MAX_CONFIG_BYTES} bytes (${MAX_CONFIG_BYTES / 1024 / 1024} MiB), the most vfsgen reads from one configuration (a device or a FIFO is read up to that size too)`;
    for (const f of ["/dev/zero", huge]) {
      const r = await vfsgen(["validate", f]);
      expect([r.exitCode, r.stderr]).toEqual([1, `${f}:1:1: error[VFS007] (document): ${limit}\n`]);
    }
    const dirR = await vfsgen(["validate", dir]);
    expect([dirR.exitCode, dirR.stderr]).toEqual([
      1,
      `${dir}:1:1: error[VFS002] (document): cannot read file: is a directory\n`,
    ]);
    // a FIFO nobody writes to reads as empty instead of blocking
    const fifo = path.join(dir, "fifo");
    await execa("mkfifo", [fifo]);
    const lonely = await vfsgen(["validate", fifo]);
    expect(lonely.exitCode).toBe(1);
    expect(lonely.stderr).toContain("error[VFS003]");
    // process substitution: a FIFO with a writer is read to its end
    const piped = await execa("bash", ["-c", `node bin/vfsgen.js validate <(sleep 0.3; cat ${SEED})`], {
      cwd: ROOT,
      reject: false,
    });
    expect([piped.exitCode, piped.stdout]).toEqual([0, "valid: 1 file(s), 1 VM(s), 2 share(s)"]);
  });

  it("validates, renders and inventories 1 000 VMs that reuse one anchored share list", async () => {
    const dir = tmpDir("anchors");
    const file = path.join(dir, "anchors.yml");
    let text = "shared: &common\n  - tag: data\n    host_path: /data\n    mount_point: /mnt/data\nclusters:\n  big:\n";
    for (let i = 0; i < 1000; i++) text += `    vm${i}:\n      cpu_cores: 2\n      virtio_fs_mounts: *common\n`;
    fs.writeFileSync(file, text);
    const v = await vfsgen(["validate", file]);
    expect([v.exitCode, v.stderr, v.stdout]).toEqual([0, "", "valid: 1 file(s), 1000 VM(s), 1000 share(s)\n"]);
    const r = await vfsgen(["render", file, "--vm", "vm999"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("<target dir='data'/>");
    const inv = await vfsgen(["inventory", file]);
    expect(inv.exitCode).toBe(0);
    expect(
      Object.keys(
        (
          yaml.load(inv.stdout, {
            schema: yaml.FAILSAFE_SCHEMA.extend([new yaml.Type("!unsafe", { kind: "scalar" })]),
          }) as any
        ).all.children.big.hosts,
      ),
    ).toHaveLength(1000);
  });

  it("ends quietly when the reader of its output goes away (| head)", async () => {
    const r = await execa(
      "bash",
      ["-c", `node bin/vfsgen.js render ${SEED} | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`],
      { cwd: ROOT, reject: false },
    );
    expect(r.stdout.trim()).toBe("0");
    expect(r.stderr).toBe("");
  });
});
