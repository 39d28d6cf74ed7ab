import * as fs from "fs";
import * as path from "path";
import { ROOT, tool } from "./helpers/tools";
import { makeWorld, type World } from "./runtime/harness";

// Real ansible-playbook runs on localhost against the fake guest of test/runtime/harness.ts
// (VIRTIO_FS_ROOT / VIRTIO_FS_BIN_DIR through the play's environment): `-e name=false` hands the
// module the STRING "false", which must behave as the boolean false, as for a Python module.
const env = {
  ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection"),
  ANSIBLE_STDOUT_CALLBACK: "ansible.builtin.default",
};

let w: World;
afterEach(() => w?.cleanup());

function play(world: World, body: string): string {
  const file = path.join(world.dir, "play.yml");
  fs.writeFileSync(
    file,
    `- hosts: localhost
  connection: local
  gather_facts: false
  environment:
    VIRTIO_FS_ROOT: "${world.root}"
    VIRTIO_FS_BIN_DIR: "${world.bin}"
${body}`,
  );
  return file;
}

async function run(file: string, extra: string[]) {
  const r = await tool("ansible-playbook", ["-i", "localhost,", file, ...extra], { env });
  const recap = /localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout);
  return { ...r, changed: recap ? Number(recap[2]) : -1, failed: recap ? Number(recap[4]) : -1 };
}

describe("arguments from -e are converted like Ansible's own", () => {
  test("-e virtio_fs_perform_mounts=false reaches the module as a string and means false", async () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "data");
    const file = play(
      w,
      `  tasks:
    - name: Apply a share the way the role does
      ai_how.virtio_fs.virtio_fs_mount:
        mounts:
          - tag: data
            mount_point: "${mp}"
            readonly: "{{ share_readonly }}"
        fstab: "${w.fstab}"
        perform_mounts: "{{ virtio_fs_perform_mounts }}"
        load_module: "{{ load }}"
      register: applied
    - name: Check what the module made of the strings
      ansible.builtin.assert:
        that:
          - applied.mounts[0].state == 'present'
`,
    );
    const r = await run(file, ["-e", "virtio_fs_perform_mounts=false", "-e", "share_readonly=yes", "-e", "load=0"]);
    expect(r.all).not.toContain("invalid arguments");
    expect(r.failed).toBe(0);
    expect(r.changed).toBe(1);
    expect(w.calls().filter((c) => c[0] === "mount" || c[0] === "modprobe")).toEqual([]);
    expect(w.readFstab()).toBe(`data ${mp} virtiofs ro,relatime,nofail 0 0\n`);
  }, 120_000);

  test("the role, in check mode, with -e virtio_fs_perform_mounts=false", async () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "role-share");
    const file = play(
      w,
      `  roles:
    - role: ai_how.virtio_fs.virtio_fs_mount
  post_tasks:
    - name: Check the role's result
      ansible.builtin.assert:
        that:
          - virtio_fs_mount_result.mounts[0].state == 'present'
          - virtio_fs_mount_result.mounts[0].actions | map(attribute='action') | list == ['create_dir', 'fstab_add']
`,
    );
    const vars = JSON.stringify({ virtio_fs_mounts: [{ tag: "roleshare", mount_point: mp }] });
    const r = await run(file, [
      "--check",
      "-e",
      vars,
      "-e",
      "virtio_fs_perform_mounts=false",
      "-e",
      "virtio_fs_install_packages=false",
    ]);
    expect(r.all).not.toContain("invalid arguments");
    expect(r.failed).toBe(0);
    expect(w.calls().filter((c) => c[0] === "mount")).toEqual([]);
    expect(fs.existsSync(mp)).toBe(false);
  }, 120_000);
});
