import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir, tool, vfsgen } from "./helpers/tools";

// `vfsgen inventory` output read by real Ansible: configuration strings are data (!unsafe), so a
// Jinja2 expression in a path is never evaluated (neither {{ 7 * 7 }} nor a lookup running a command
// on the controller), and the role's module still receives the literal strings.

const env = {
  ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection"),
  ANSIBLE_STDOUT_CALLBACK: "ansible.builtin.default",
};

describe("inventory through Ansible", () => {
  const dir = tmpDir("inventory");
  const canary = path.join(dir, "canary");
  const mountPoint = path.join(dir, "mnt/{{ 7 * 7 }}");
  const config = path.join(dir, "cluster.yml");
  const inventory = path.join(dir, "inventory.yml");
  const fstab = path.join(dir, "fstab");

  beforeAll(async () => {
    fs.writeFileSync(
      config,
      [
        "clusters:",
        "  hpc:",
        "    controller:",
        '      ip_address: "127.0.0.1"',
        "      virtio_fs_mounts:",
        "        - tag: datasets",
        '          host_path: "/data/{{ 7 * 7 }}"',
        `          mount_point: ${JSON.stringify(mountPoint)}`,
        "        - tag: tools",
        `          host_path: "/data/{{ lookup('pipe', 'touch ${canary}') }}"`,
        '          mount_point: "/mnt/{% raw %}x{% endraw %}"',
        '          mode: "0750"',
        '  "2024":',
        "    __proto__:",
        "      cpu_cores: 2",
        "",
      ].join("\n"),
    );
    const r = await vfsgen(["inventory", config]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    fs.writeFileSync(inventory, r.stdout);
    fs.writeFileSync(fstab, "# static file system information\n");
  });

  it("writes every configuration string !unsafe, keeps numbers and booleans plain", () => {
    const text = fs.readFileSync(inventory, "utf8");
    expect(text).toContain("host_path: !unsafe /data/{{ 7 * 7 }}");
    expect(text).toContain('mode: !unsafe "0750"');
    expect(text).toContain("ansible_host: !unsafe 127.0.0.1");
    expect(text).not.toMatch(/^\s+(tag|host_path|mount_point|mode|ansible_host): (?!!unsafe )/m);
  });

  it("ansible-inventory reads the groups unchanged, without templating or renaming anything", async () => {
    const r = await tool("ansible-inventory", ["-i", inventory, "--list"], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/Invalid characters were found in group names/);
    const inv = JSON.parse(r.stdout);
    expect(inv.all.children).toEqual(expect.arrayContaining(["ungrouped", "hpc", "_2024"]));
    expect(inv._2024.hosts).toEqual(["2024-__proto__"]);
    // Ansible marks what it must never template: the values come back as {"__ansible_unsafe": ...}
    const mounts = inv._meta.hostvars["hpc-controller"].virtio_fs_mounts;
    expect(mounts[0].host_path).toEqual({ __ansible_unsafe: "/data/{{ 7 * 7 }}" });
    expect(mounts[1].mount_point).toEqual({ __ansible_unsafe: "/mnt/{% raw %}x{% endraw %}" });
  });

  it("keeps {{ 7 * 7 }} literal in hostvars and in what the role's module receives, and runs no lookup", async () => {
    const play = path.join(dir, "play.yml");
    fs.writeFileSync(
      play,
      `- hosts: hpc
  connection: local
  gather_facts: false
  tasks:
    - name: Show the first share's host path
      ansible.builtin.debug:
        msg: "host_path={{ hostvars[inventory_hostname].virtio_fs_mounts[0].host_path }}"
    - name: Show every share (templates every string of the list, the lookup included, if it were code)
      ansible.builtin.debug:
        msg: "{{ virtio_fs_mounts | map(attribute='host_path') | join(',') }}"
    - name: Apply the shares as the virtio_fs_mount role does (fstab only)
      ai_how.virtio_fs.virtio_fs_mount:
        mounts: "{{ virtio_fs_mounts[:1] }}"
        default_owner: root
        default_group: root
        perform_mounts: false
        load_module: false
        fstab: ${JSON.stringify(fstab)}
`,
    );
    const r = await tool("ansible-playbook", ["-i", inventory, play], { env });
    expect(r.stdout).toMatch(/hpc-controller\s+: ok=3\s+changed=1\s+unreachable=0\s+failed=0/);
    expect(r.stdout).toContain('"msg": "host_path=/data/{{ 7 * 7 }}"');
    expect(r.stdout).not.toContain("/data/49");
    expect(r.stdout).toContain(`"msg": "/data/{{ 7 * 7 }},/data/{{ lookup('pipe', 'touch ${canary}') }}"`);
    expect(fs.readFileSync(fstab, "utf8")).toBe(
      `# static file system information\ndatasets ${mountPoint.replace(/ /g, "\\040")} virtiofs rw,relatime,nofail 0 0\n`,
    );
    expect(fs.statSync(mountPoint).isDirectory()).toBe(true);
    expect(fs.existsSync(canary)).toBe(false);
  });
});
