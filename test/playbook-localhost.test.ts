import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir, tool } from "./helpers/tools";

// Real ansible-playbook runs on localhost for everything that needs no virtio-fs device:
// fstab-only states, check and diff mode, virtio_fs_domain on XML files, the plain tree's library.
const env = {
  ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection"),
  ANSIBLE_STDOUT_CALLBACK: "ansible.builtin.default",
};

function playbook(dir: string, tasks: string): string {
  const file = path.join(dir, `play-${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(file, `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n${tasks}`);
  return file;
}

async function run(file: string, extra: string[] = []) {
  const r = await tool("ansible-playbook", ["-i", "localhost,", file, ...extra], { env });
  const recap = /localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout);
  return { ...r, changed: recap ? Number(recap[2]) : -1, failed: recap ? Number(recap[4]) : -1 };
}

describe("modules through ansible-playbook on localhost", () => {
  const dir = tmpDir("play");
  const fstab = path.join(dir, "fstab");
  const mp = path.join(dir, "mnt/with space");
  const shares = (state: string) => `
        mounts:
          - tag: datasets
            mount_point: "${mp}"
            owner: root
            group: root
            mode: "0750"
            state: ${state}
        fstab: "${fstab}"
        perform_mounts: false
        load_module: false`;
  const task = (state: string) =>
    playbook(dir, `    - name: Apply the shares\n      ai_how.virtio_fs.virtio_fs_mount:${shares(state)}\n`);

  beforeAll(() => fs.writeFileSync(fstab, "# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1"));

  it("predicts the change in check mode and writes nothing", async () => {
    const r = await run(task("present"), ["--check", "--diff"]);
    expect(r.failed).toBe(0);
    expect(r.changed).toBe(1);
    expect(r.stdout).toContain(`+datasets ${mp.replace(/ /g, "\\040")} virtiofs rw,relatime,nofail 0 0`);
    expect(fs.readFileSync(fstab, "utf8")).toBe(
      "# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1",
    );
    expect(fs.existsSync(mp)).toBe(false);
  });

  it("writes the fstab line (spaces as \\040) and the mount point, then changes nothing", async () => {
    const first = await run(task("present"));
    expect(first.failed).toBe(0);
    expect(first.changed).toBe(1);
    expect(fs.readFileSync(fstab, "utf8")).toBe(
      `# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1\ndatasets ${mp.replace(/ /g, "\\040")} virtiofs rw,relatime,nofail 0 0\n`,
    );
    expect((fs.statSync(mp).mode & 0o777).toString(8)).toBe("750");
    const second = await run(task("present"));
    expect(second.changed).toBe(0);
  });

  it("removes the line and the empty mount point for state absent", async () => {
    const r = await run(task("absent"), ["--diff"]);
    expect(r.changed).toBe(1);
    expect(r.stdout).toContain(`-datasets ${mp.replace(/ /g, "\\040")} virtiofs`);
    expect(fs.readFileSync(fstab, "utf8")).toBe(
      "# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1\n",
    );
    expect(fs.existsSync(mp)).toBe(false);
    expect((await run(task("absent"))).changed).toBe(0);
  });

  it("fails a bad argument with its JSON pointer and what was expected", async () => {
    const file = playbook(
      dir,
      `    - name: Apply a bad share\n      ai_how.virtio_fs.virtio_fs_mount:\n        mounts:\n          - tag: "bad tag"\n            mount_point: /mnt/x\n        fstab: "${fstab}"\n        colour: red\n`,
    );
    const r = await run(file);
    expect(r.failed).toBe(1);
    expect(r.stdout).toContain(
      '/mounts/0/tag: expected a tag of 1 to 36 characters from A-Z a-z 0-9 . _ -, got \\"bad tag\\"',
    );
    expect(r.stdout).toContain('/colour: unknown property \\"colour\\"');
  });

  it("edits a domain XML file with virtio_fs_domain, idempotently, honouring check mode", async () => {
    const xml = path.join(dir, "domain.xml");
    fs.writeFileSync(
      xml,
      "<domain type='kvm'>\n  <name>vm</name>\n  <memory unit='MiB'>1024</memory>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n  </devices>\n</domain>\n",
    );
    const before = fs.readFileSync(xml, "utf8");
    const file = playbook(
      dir,
      `    - name: Share a directory with the domain\n      ai_how.virtio_fs.virtio_fs_domain:\n        xml_path: "${xml}"\n        mounts:\n          - tag: datasets\n            host_path: /data/ml-datasets\n            mount_point: /mnt/host-datasets\n`,
    );
    const check = await run(file, ["--check"]);
    expect(check.changed).toBe(1);
    expect(fs.readFileSync(xml, "utf8")).toBe(before);
    expect((await run(file)).changed).toBe(1);
    const after = fs.readFileSync(xml, "utf8");
    expect(after).toMatch(/<source dir=["']\/data\/ml-datasets["']\/>\s*<target dir=["']datasets["']\/>/);
    expect(after).toMatch(
      /<memoryBacking>\s*<source type=["']memfd["']\/>\s*<access mode=["']shared["']\/>\s*<\/memoryBacking>/,
    );
    expect(after).toMatch(/<filesystem type=["']mount["'] accessmode=["']passthrough["']>/);
    expect((await run(file)).changed).toBe(0);
  });

  it("finds the plain tree's .cjs modules in the role's library directory", async () => {
    const file = playbook(
      dir,
      `    - name: Read virtio-fs facts\n      virtio_fs_info:\n        fstab: "${fstab}"\n      register: info\n    - name: Show them\n      ansible.builtin.assert:\n        that: info.virtio_fs.kernel | length > 0\n`,
    );
    const r = await tool("ansible-playbook", ["-i", "localhost,", file], {
      env: { ANSIBLE_LIBRARY: path.join(ROOT, "generated/ansible/roles/virtio-fs-mount/library") },
    });
    expect(r.stdout).toMatch(/localhost\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=0/);
  });
});
