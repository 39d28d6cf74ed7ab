import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

describe("virtio_fs_info", () => {
  test("reports kernel, module, mounts (escaped paths decoded), fstab virtiofs lines; tags null without /sys/fs/virtiofs", () => {
    w = makeWorld();
    w.addMount("data sets", "/mnt/host datasets", "ro,nosuid,relatime");
    w.writeFstab(
      "# c\nUUID=1 / ext4 defaults 0 1\ndatasets /mnt/host\\040datasets virtiofs ro,nofail 0 0\nc /mnt/c virtiofs rw\n",
    );
    const { result } = w.run("virtio_fs_info", { fstab: w.fstab });
    expect(result.failed).toBeUndefined();
    expect(result.changed).toBe(false);
    const f = result.virtio_fs;
    expect(f.kernel).toBe(os.release());
    expect(f.module).toEqual({ available: true, loaded: true });
    expect(f.mounts).toEqual([
      {
        tag: "data sets",
        mount_point: "/mnt/host datasets",
        options: "ro,nosuid,relatime",
        super_options: "rw",
        ro: true,
        // the fake guest has no such directory: its root is "gone" (dead-share.test.ts covers health)
        health: "host directory gone",
        health_source: expect.stringContaining("ENOENT"),
      },
    ]);
    expect(f.fstab).toEqual([
      { tag: "datasets", mount_point: "/mnt/host datasets", options: "ro,nofail", dump: 0, passno: 0, line: 3 },
      { tag: "c", mount_point: "/mnt/c", options: "rw", dump: 0, passno: 0, line: 4 },
    ]);
    expect(f.tags).toBeNull();
    // An info module, not a _facts module: the data is under virtio_fs only, never in ansible_facts.
    expect(result).not.toHaveProperty("ansible_facts");
  });

  test("lists the offered tags from /sys/fs/virtiofs/*/tag (also an empty list)", () => {
    w = makeWorld({ tagsDir: ["datasets", "containers"] });
    expect(w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs.tags).toEqual(["datasets", "containers"]);
    fs.rmSync(path.join(w.root, "sys/fs/virtiofs/0"), { recursive: true });
    fs.rmSync(path.join(w.root, "sys/fs/virtiofs/1"), { recursive: true });
    expect(w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs.tags).toEqual([]);
  });

  test("module availability: builtin list, modinfo, or nothing", () => {
    w = makeWorld({ moduleLoaded: false });
    let f = w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs;
    expect(f.module).toEqual({ available: false, loaded: false });
    expect(callsOf(w, "modinfo")).toEqual([["--", "virtiofs"]]);

    w.setFake({ modinfo: true });
    f = w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs;
    expect(f.module).toEqual({ available: true, loaded: false });

    w.setFake({});
    const dir = path.join(w.root, "lib/modules", os.release());
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "modules.builtin"), "kernel/fs/fuse/fuse.ko\nkernel/fs/fuse/virtiofs.ko\n");
    f = w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs;
    expect(f.module.available).toBe(true);
  });

  test("loaded when /proc/filesystems lists virtiofs", () => {
    w = makeWorld({ moduleLoaded: false });
    fs.appendFileSync(path.join(w.root, "proc/filesystems"), "nodev\tvirtiofs\n");
    expect(w.run("virtio_fs_info", { fstab: w.fstab }).result.virtio_fs.module).toEqual({
      available: true,
      loaded: true,
    });
  });

  test("a missing fstab is an empty list; check mode works; unknown arguments are rejected", () => {
    w = makeWorld();
    const r = w.run("virtio_fs_info", { fstab: path.join(w.dir, "nope"), _ansible_check_mode: true }).result;
    expect(r.failed).toBeUndefined();
    expect(r.virtio_fs.fstab).toEqual([]);
    const bad = w.run("virtio_fs_info", { fstab: w.fstab, mounts: [] }).result;
    expect(bad.failed).toBe(true);
    expect(bad.msg).toContain('unknown property "mounts"');
    expect(w.calls().filter((c) => c[0] !== "modinfo")).toEqual([]);
  });
});
