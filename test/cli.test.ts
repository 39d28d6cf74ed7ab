import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
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
});
