// The two host-side paths to a domain — the generated controller.xml.j2 and the virtio_fs_domain
// module — must write the same <filesystem> devices and the same <memoryBacking> for the same shares,
// or a VM's devices would depend on which one the operator used.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderTemplate } from "../../src/render/domain";
import { ROOT } from "../helpers/tools";
import { makeWorld, type World } from "./harness";

const TEMPLATE = fs.readFileSync(path.join(ROOT, "generated/templates/controller.xml.j2"), "utf8");
const dir = path.join(ROOT, "test/render-configs");
const configs = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".yml"))
  .sort();

let w: World;
afterEach(() => w?.cleanup());

/** xmllint's verdict: "" when well-formed, else its complaint. */
const notWellFormed = (xml: string): string => {
  const r = spawnSync("xmllint", ["--noout", "--nonet", "-"], { input: xml, encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr;
};

const blocks = (xml: string, element: string): string[] =>
  xml.match(new RegExp(`^ *<${element}[ >][\\s\\S]*?</${element}>$`, "gm")) ?? [];

describe("virtio_fs_domain writes what the domain template renders", () => {
  it.each(configs)("%s: same <filesystem> devices and <memoryBacking>", (c) => {
    const vars = yaml.load(fs.readFileSync(path.join(dir, c), "utf8")) as Record<string, unknown>;
    const mounts = (vars.virtio_fs_mounts as unknown[] | undefined) ?? [];
    const fromTemplate = renderTemplate(TEMPLATE, vars);
    const bare = renderTemplate(TEMPLATE, { ...vars, virtio_fs_mounts: [] });
    expect(blocks(bare, "filesystem")).toEqual([]);

    w = makeWorld();
    const xmlPath = path.join(w.root, "domain.xml");
    fs.writeFileSync(xmlPath, bare);
    const args: Record<string, unknown> = { xml_path: xmlPath, mounts };
    if (vars.virtio_fs_libvirt_version !== undefined) args.libvirt_version = String(vars.virtio_fs_libvirt_version);
    if (vars.virtio_fs_readonly_mechanism !== undefined) args.readonly_mechanism = vars.virtio_fs_readonly_mechanism;
    if (vars.virtio_fs_readonly_wrapper_path !== undefined)
      args.readonly_wrapper_path = vars.virtio_fs_readonly_wrapper_path;
    const { result } = w.run("virtio_fs_domain", args);
    expect(result.failed).toBeUndefined();
    const fromModule = fs.readFileSync(xmlPath, "utf8");

    expect(blocks(fromModule, "filesystem")).toEqual(blocks(fromTemplate, "filesystem"));
    expect(blocks(fromModule, "memoryBacking")).toEqual(blocks(fromTemplate, "memoryBacking"));
    expect(result.changed).toBe(blocks(fromTemplate, "filesystem").length > 0);
    expect(notWellFormed(fromTemplate)).toBe("");
    expect(notWellFormed(fromModule)).toBe("");
  });

  // A share that is absent keeps no device, so it needs no shared memory: only present, unmounted
  // and mounted shares count, in the template as in the module (decided in issue 9).
  it("adds shared memory only when a share is not absent", () => {
    const render = (states: string[]) =>
      renderTemplate(TEMPLATE, {
        vm_name: "s",
        vm_disk_path: "/d.qcow2",
        virtio_fs_mounts: states.map((state, i) => ({
          tag: `t${i}`,
          host_path: `/h${i}`,
          mount_point: `/m${i}`,
          state,
        })),
      });
    expect(blocks(render(["absent"]), "memoryBacking")).toEqual([]);
    expect(blocks(render(["absent", "absent"]), "memoryBacking")).toEqual([]);
    for (const kept of ["mounted", "present", "unmounted"]) {
      expect(blocks(render(["absent", kept]), "memoryBacking")).toHaveLength(1);
      expect(blocks(render([kept, "absent"]), "filesystem")).toHaveLength(1);
    }
  });
});
