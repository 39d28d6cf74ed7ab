// Issue 10: the schema is the only home of a default. In a copy of the repository, defaults are changed
// in the schema and nowhere else; after `vfsgen generate` the template, `vfsgen render`, the shipped
// modules on a fake guest, the argument specs, the module docs and the README tables all carry the
// new values. A default restated anywhere in code would keep an old value and fail here.
import * as fs from "fs";
import * as path from "path";
import execa from "execa";
import * as yaml from "js-yaml";
import { renderTemplate } from "../src/render/domain";
import { OUTPUTS_OUTSIDE_MANAGED_ROOTS, managedRootOf } from "../src/emit/layout";
import { ROOT, tmpDir, vfsgen } from "./helpers/tools";
import { makeWorld, type World } from "./runtime/harness";

const SCHEMA = "schemas/virtio-fs-mount.schema.json";
const COLLECTION = "collection/ansible_collections/ai_how/virtio_fs";
const OLD = { queue: 1024, libvirt: "9.0.0", options: "rw,relatime,nofail" };
const NEW = { queue: 512, libvirt: "11.0.0", options: "rw,noatime,nofail" };
const SKIP = new Set(["node_modules", ".venv", ".cache", ".git"]);

let copy: string;
let w: World | undefined;
const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), "utf8");

/** The files of a tree (relative paths), without the skipped directories. */
function files(root: string, dir = ""): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (SKIP.has(e.name) && dir === "") return [];
    return e.isDirectory() ? files(root, rel) : [rel];
  });
}

beforeAll(async () => {
  copy = tmpDir("mutation");
  for (const e of fs.readdirSync(ROOT))
    if (!SKIP.has(e)) fs.cpSync(path.join(ROOT, e), path.join(copy, e), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));

  const schema = JSON.parse(read(copy, SCHEMA));
  expect(schema.$defs.share.properties.queue_size.default).toBe(OLD.queue);
  expect(schema.properties.virtio_fs_libvirt_version.default).toBe(OLD.libvirt);
  expect(schema.properties.virtio_fs_default_options.default).toBe(OLD.options);
  schema.$defs.share.properties.queue_size.default = NEW.queue;
  schema.properties.virtio_fs_libvirt_version.default = NEW.libvirt;
  schema.properties.virtio_fs_default_options.default = NEW.options;
  fs.writeFileSync(path.join(copy, SCHEMA), `${JSON.stringify(schema, null, 2)}\n`);

  const r = await execa(process.execPath, [path.join(copy, "bin/vfsgen.js"), "generate"], {
    cwd: copy,
    reject: false,
    all: true,
  });
  expect(r.all).toMatch(/^wrote \d+ files$/);
  expect(r.exitCode).toBe(0);
}, 120_000);

afterAll(() => {
  w?.cleanup();
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

test("only the schema was edited by hand: every other changed file is a generated one", () => {
  const changed = files(copy).filter((f) => !fs.existsSync(path.join(ROOT, f)) || read(copy, f) !== read(ROOT, f));
  const outside = OUTPUTS_OUTSIDE_MANAGED_ROOTS.map((o) => o.split("#")[0]);
  const generated = (f: string) => outside.includes(f) || managedRootOf(f) !== undefined;
  expect(changed.filter((f) => !generated(f))).toEqual([SCHEMA]);
  expect(changed).toContain("generated/templates/controller.xml.j2");
});

test("the domain template renders the new defaults", () => {
  const template = read(copy, "generated/templates/controller.xml.j2");
  const xml = renderTemplate(template, {
    vm_name: "m",
    vm_disk_path: "/d.qcow2",
    virtio_fs_mounts: [{ tag: "ds", host_path: "/data", mount_point: "/mnt/ds", readonly: true }],
  });
  expect(xml).toContain(`<driver type='virtiofs' queue='${NEW.queue}'/>`);
  // <readonly/> is written from libvirt 11.0: the new default version turns it on
  expect(xml).toContain("<readonly/>");
});

test("vfsgen render follows", async () => {
  const config = path.join(copy, "mutation-cluster.yml");
  fs.writeFileSync(
    config,
    "clusters:\n  c:\n    v:\n      virtio_fs_mounts:\n        - {tag: ds, host_path: /data, mount_point: /mnt/ds, readonly: true}\n",
  );
  const r = await vfsgen(["render", config], copy, copy);
  expect(r.stderr).toBe("");
  expect(r.stdout).toContain(`queue='${NEW.queue}'`);
  expect(r.stdout).toContain("<readonly/>");
  fs.rmSync(config);
});

test("the shipped modules follow on a fake guest and a domain file", () => {
  w = makeWorld({ repo: copy });
  const mount = w.run("virtio_fs_mount", {
    mounts: [{ tag: "ds", mount_point: path.join(w.mnt, "ds") }],
    fstab: w.fstab,
  }).result;
  expect(mount.failed).toBeUndefined();
  expect(w.readFstab()).toContain(` virtiofs ${NEW.options} 0 0`);

  const xmlPath = path.join(w.root, "domain.xml");
  fs.writeFileSync(xmlPath, "<domain type='kvm'>\n  <name>m</name>\n  <devices>\n  </devices>\n</domain>\n");
  const domain = w.run("virtio_fs_domain", {
    xml_path: xmlPath,
    mounts: [{ tag: "ds", host_path: "/data", mount_point: "/mnt/ds", readonly: true }],
  }).result;
  expect(domain.failed).toBeUndefined();
  const xml = fs.readFileSync(xmlPath, "utf8");
  expect(xml).toContain(`queue='${NEW.queue}'`);
  expect(xml).toContain("<readonly/>");
});

test("argument specs, module docs and role defaults follow", () => {
  type Spec = {
    argument_specs: {
      main: { options: Record<string, { default?: unknown; options?: Record<string, { default?: unknown }> }> };
    };
  };
  const spec = (role: string) =>
    (yaml.load(read(copy, `${COLLECTION}/roles/${role}/meta/argument_specs.yml`)) as Spec).argument_specs.main.options;
  expect(spec("virtio_fs_mount").virtio_fs_default_options.default).toBe(NEW.options);
  expect(spec("virtio_fs_mount").virtio_fs_mounts.options!.queue_size.default).toBe(NEW.queue);
  expect(spec("virtio_fs_host").virtio_fs_libvirt_version.default).toBe(NEW.libvirt);
  expect(yaml.load(read(copy, "generated/ansible/roles/virtio-fs-mount/defaults/main.yml"))).toMatchObject({
    virtio_fs_default_options: NEW.options,
  });
  // the module argument shares the role variable's default (x-default-from)
  const doc = yaml.load(read(copy, `${COLLECTION}/plugins/modules/virtio_fs_mount.yml`)) as {
    DOCUMENTATION: { options: Record<string, { default?: unknown }> };
  };
  expect(doc.DOCUMENTATION.options.default_options.default).toBe(NEW.options);
});

test("the README tables follow", () => {
  const readme = read(copy, "README.md");
  expect(readme).toMatch(new RegExp(`^\\| \`queue_size\` \\| integer \\| no \\| \`${NEW.queue}\` \\|`, "m"));
  expect(readme).toMatch(new RegExp(`^\\| \`virtio_fs_libvirt_version\` \\| string \\| \`"${NEW.libvirt}"\` \\|`, "m"));
  expect(readme).toMatch(new RegExp(`^\\| \`virtio_fs_default_options\` \\| string \\| \`"${NEW.options}"\` \\|`, "m"));
});

test("the published cluster schema follows", () => {
  const published = JSON.parse(read(copy, "schemas/cluster-config.schema.json"));
  expect(published.$defs.share.properties.queue_size.default).toBe(NEW.queue);
});
