import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir, tool, vfsgen } from "./helpers/tools";

// The hypervisors group of `vfsgen inventory` and the one-run cluster playbook: exact text (golden,
// UPDATE_GOLDEN=1 rewrites it), then what real Ansible makes of it: hypervisor names YAML would read
// as other types stay host names, strings stay !unsafe, the host play runs on the hypervisors only
// and the guest play on the VMs only.

const CONFIG = "test/inventory/hypervisors.cluster.yml";
const GOLDEN = path.join(ROOT, "test/inventory/hypervisors.inventory.yml");
const env = { ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection") };

/** `ansible-playbook --list-hosts` output: the hosts of each play, in play order. */
function playHosts(out: string): string[][] {
  return out
    .split(/\n\s*play #\d+ \([^)]*\): /)
    .slice(1)
    .map((play) => {
      const m = play.match(/pattern: .*\n\s+hosts \(\d+\):\n((?:\s{6}\S.*\n?)*)/);
      return m
        ? m[1]
            .trim()
            .split(/\s*\n\s*/)
            .sort()
        : [];
    });
}

describe("vfsgen inventory: the hypervisors group", () => {
  const dir = tmpDir("hypervisors");
  const inventory = path.join(dir, "inventory.yml");

  beforeAll(async () => {
    const r = await vfsgen(["inventory", CONFIG]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    fs.writeFileSync(inventory, r.stdout);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(GOLDEN, r.stdout);
  });

  it("writes exactly the golden inventory", () => {
    expect(fs.readFileSync(inventory, "utf8")).toBe(fs.readFileSync(GOLDEN, "utf8"));
  });

  it("lists each hypervisor's VMs that set shares; a VM without virtio_fs_mounts is left alone", () => {
    const text = fs.readFileSync(inventory, "utf8");
    expect(text).toContain("    hypervisors:\n      hosts:\n");
    expect(text).toContain("            - name: !unsafe hpc-compute\n");
    expect(text).not.toContain("name: !unsafe 2024-gpu");
    expect(text).toContain("host_path: !unsafe /data/{{ lookup('pipe', 'id') }}");
  });

  it("ansible-inventory reads the hypervisors as hosts, the default one local, strings never templated", async () => {
    const r = await tool("ansible-inventory", ["-i", inventory, "--list"], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/same name|Invalid characters|Skipping/);
    const inv = JSON.parse(r.stdout);
    expect(inv.hypervisors.hosts.sort()).toEqual(["1e3", "localhost", "null"]);
    const local = inv._meta.hostvars.localhost;
    expect(local.ansible_connection).toBe("local");
    expect(local.virtio_fs_host_domains[0].name).toEqual({ __ansible_unsafe: "hpc-controller" });
    expect(local.virtio_fs_host_domains[0].mounts[0].host_path).toEqual({
      __ansible_unsafe: "/data/{{ lookup('pipe', 'id') }}",
    });
    const remote = inv._meta.hostvars.null;
    expect(remote.ansible_connection).toBeUndefined();
    expect(remote.virtio_fs_host_domains.map((d: { name: unknown }) => d.name)).toEqual([
      { __ansible_unsafe: "hpc-compute" },
    ]);
  });

  it("the cluster playbook runs the host role on the hypervisors, then the guest role on the VMs", async () => {
    const r = await tool(
      "ansible-playbook",
      ["-i", inventory, "--list-hosts", "--list-tasks", "ai_how.virtio_fs.virtio_fs_cluster_config"],
      { env },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/Could not match/);
    expect(playHosts(r.stdout)).toEqual([
      ["1e3", "localhost", "null"],
      ["2024-__proto__", "2024-gpu", "hpc-compute", "hpc-controller"],
    ]);
    const hostPlay = r.stdout.indexOf("virtio_fs_host : Apply the virtio-fs shares of each domain");
    const guestPlay = r.stdout.indexOf("virtio_fs_mount : ");
    expect(hostPlay).toBeGreaterThan(0);
    expect(guestPlay).toBeGreaterThan(hostPlay);
  });

  it("the runtime playbook leaves the hypervisors out, and runs on every host of an inventory without them", async () => {
    const r = await tool(
      "ansible-playbook",
      ["-i", inventory, "--list-hosts", "ai_how.virtio_fs.virtio_fs_runtime_config"],
      { env },
    );
    expect(r.exitCode).toBe(0);
    expect(playHosts(r.stdout)).toEqual([["2024-__proto__", "2024-gpu", "hpc-compute", "hpc-controller"]]);
    const seed = await tool("ansible-playbook", [
      "-i",
      inventory,
      "--list-hosts",
      "generated/ansible/playbooks/playbook-virtio-fs-runtime-config.yml",
    ]);
    expect(playHosts(seed.stdout)).toEqual(playHosts(r.stdout));
    const plain = await tool(
      "ansible-playbook",
      ["-i", "vm1,vm2,", "--list-hosts", "ai_how.virtio_fs.virtio_fs_runtime_config"],
      { env },
    );
    expect(plain.exitCode).toBe(0);
    expect(plain.stderr).not.toMatch(/Could not match/);
    expect(playHosts(plain.stdout)).toEqual([["vm1", "vm2"]]);
  });
});
