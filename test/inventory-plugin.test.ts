import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir, tool, vfsgen } from "./helpers/tools";

// The collection's inventory plugin (ai_how.virtio_fs.vfs_cluster) reads a cluster configuration
// itself: `ansible-inventory -i cluster.vfs.yml --list` must give what the same command gives on the
// inventory `vfsgen inventory` writes (hosts, groups, variables, every string still data).

const env = { ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection") };
const PLUGIN_LINE = "plugin: ai_how.virtio_fs.vfs_cluster\n";

/** ansible-inventory --list with group and host lists sorted (JS and Python order keys differently). */
function normalised(json: string): unknown {
  const inv = JSON.parse(json) as Record<string, { hosts?: string[]; children?: string[] }>;
  for (const g of Object.values(inv)) {
    g.hosts?.sort();
    g.children?.sort();
  }
  return inv;
}

describe("the vfs_cluster inventory plugin", () => {
  const dir = tmpDir("inventory-plugin");
  const canary = path.join(dir, "canary");

  it("gives the inventory vfsgen inventory writes, from the cluster file alone, templating nothing", async () => {
    const config = path.join(dir, "cluster.vfs.yml");
    const text = fs
      .readFileSync(path.join(ROOT, "test/inventory/hypervisors.cluster.yml"), "utf8")
      .replace("/data/{{ lookup('pipe', 'id') }}", `/data/{{ lookup('pipe', 'touch ${canary}') }}`);
    fs.writeFileSync(config, PLUGIN_LINE + text);
    const written = await vfsgen(["inventory", config]);
    expect(written.exitCode).toBe(0);
    fs.writeFileSync(path.join(dir, "written.yml"), written.stdout);

    const fromPlugin = await tool("ansible-inventory", ["-i", config, "--list"], { env });
    expect(fromPlugin.stderr).toBe("");
    expect(fromPlugin.exitCode).toBe(0);
    const fromVfsgen = await tool("ansible-inventory", ["-i", path.join(dir, "written.yml"), "--list"], { env });
    expect(fromVfsgen.exitCode).toBe(0);
    expect(normalised(fromPlugin.stdout)).toEqual(normalised(fromVfsgen.stdout));
    const inv = JSON.parse(fromPlugin.stdout);
    expect(inv.hypervisors.hosts.sort()).toEqual(["1e3", "localhost", "null"]);
    expect(inv._meta.hostvars["hpc-controller"].virtio_fs_mounts[0].host_path).toEqual({
      __ansible_unsafe: `/data/{{ lookup('pipe', 'touch ${canary}') }}`,
    });
    expect(fs.existsSync(canary)).toBe(false);
  });

  it.each([
    [
      "a VM name outside the domain name rule",
      "clusters:\n  hpc:\n    '../x':\n      cpu_cores: 1\n",
      "VM name '../x'",
    ],
    [
      "a cluster that becomes the hypervisors group",
      "clusters:\n  hypervisors:\n    a:\n      cpu_cores: 1\n",
      "taken",
    ],
    [
      "a hypervisor named like a VM",
      "clusters:\n  hpc:\n    a:\n      hypervisor: hpc-b\n      virtio_fs_mounts: []\n    b:\n      cpu_cores: 1\n",
      "is also a VM or a group",
    ],
  ])("refuses %s", async (_what, body, message) => {
    const config = path.join(dir, `bad-${message.length}.vfs.yml`);
    fs.writeFileSync(config, PLUGIN_LINE + body);
    const r = await tool("ansible-inventory", ["-i", config, "--list"], { env });
    expect(r.all).toContain(message);
    expect(JSON.parse(r.stdout || "{}")._meta?.hostvars ?? {}).toEqual({});
  });

  it("is only picked for *.vfs.yml files", async () => {
    const config = path.join(dir, "cluster.yml");
    fs.writeFileSync(config, `${PLUGIN_LINE}clusters:\n  hpc:\n    a:\n      cpu_cores: 1\n`);
    const r = await tool("ansible-inventory", ["-i", config, "--list"], { env });
    expect(r.all).toMatch(/vfs_cluster/);
    expect(JSON.parse(r.stdout).all.children).toEqual(["ungrouped"]);
  });
});
