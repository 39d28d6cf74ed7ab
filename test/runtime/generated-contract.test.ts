/**
 * The contract with the generator: src/runtime/generated/<name>/main.ts (runModule + the ajv standalone
 * validator) bundles and runs against this runtime. Skipped until the generator has written them.
 */
import * as fs from "fs";
import * as path from "path";
import { bundleSource, makeWorld, runBundle, type World } from "./harness";

const GENERATED = path.resolve(__dirname, "../../src/runtime/generated");
const has = (name: string) => fs.existsSync(path.join(GENERATED, name, "main.ts"));
let w: World;
afterEach(() => w?.cleanup());

const maybe = (name: string) => (has(name) ? test : test.skip);

maybe("virtio_fs_mount")("generated virtio_fs_mount: validator defaults and pointers, then a mount", () => {
  w = makeWorld();
  const file = bundleSource("generated-virtio_fs_mount", `import "./src/runtime/generated/virtio_fs_mount/main";`);
  const env = { VIRTIO_FS_ROOT: w.root, VIRTIO_FS_BIN_DIR: w.bin };
  const bad = runBundle(file, JSON.stringify({ mounts: [{ tag: "a/b", mount_point: "/x" }], bogus: true }), env).result;
  expect(bad.failed).toBe(true);
  expect(bad.msg).toContain("/mounts/0/tag");
  expect(bad.msg).toContain("bogus");
  const mp = path.join(w.mnt, "gen");
  const ok = runBundle(
    file,
    JSON.stringify({ mounts: [{ tag: "gen", mount_point: mp }], fstab: w.fstab, _ansible_check_mode: false }),
    env,
  ).result;
  expect(ok.failed).toBeUndefined();
  expect(ok.mounts[0]).toMatchObject({ tag: "gen", state: "mounted", changed: true });
  expect(w.readFstab()).toBe(`gen ${mp} virtiofs rw,relatime,nofail 0 0\n`);
});

maybe("virtio_fs_info")("generated virtio_fs_info runs", () => {
  w = makeWorld();
  const file = bundleSource("generated-virtio_fs_info", `import "./src/runtime/generated/virtio_fs_info/main";`);
  const r = runBundle(file, JSON.stringify({ fstab: w.fstab }), {
    VIRTIO_FS_ROOT: w.root,
    VIRTIO_FS_BIN_DIR: w.bin,
  }).result;
  expect(r.changed).toBe(false);
  expect(r.virtio_fs.module.loaded).toBe(true);
  expect(r).not.toHaveProperty("ansible_facts");
});

maybe("virtio_fs_domain")("generated virtio_fs_domain: name and xml_path are exclusive, a file is edited", () => {
  w = makeWorld();
  const file = bundleSource("generated-virtio_fs_domain", `import "./src/runtime/generated/virtio_fs_domain/main";`);
  const env = { VIRTIO_FS_ROOT: w.root, VIRTIO_FS_BIN_DIR: w.bin };
  const both = runBundle(file, JSON.stringify({ name: "a", xml_path: "/a", mounts: [] }), env).result;
  expect(both.failed).toBe(true);
  const xml = path.join(w.dir, "d.xml");
  fs.writeFileSync(xml, "<domain type='kvm'>\n  <name>d</name>\n  <devices>\n  </devices>\n</domain>\n");
  const r = runBundle(
    file,
    JSON.stringify({ xml_path: xml, mounts: [{ tag: "t", host_path: "/h", mount_point: "/m" }] }),
    env,
  ).result;
  expect(r).toMatchObject({ changed: true, added: ["t"] });
  expect(fs.readFileSync(xml, "utf8")).toContain("<target dir='t'/>");
});
