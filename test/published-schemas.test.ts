import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { MessageOrigins, type MessageCode } from "../src/errors/messages";
import { compile } from "../src/pipeline";
import { ROOT, VENV_BIN, tmpDir, tool, vfsgen } from "./helpers/tools";

/*
 * The schemas editors use (schemas/virtio-fs-mount.schema.json for vars files, the generated
 * schemas/cluster-config.schema.json for cluster files), checked by a second, independent JSON Schema
 * implementation: Python's jsonschema, with PyYAML reading the files as Ansible does.
 */
const SOURCE = "schemas/virtio-fs-mount.schema.json";
const CLUSTER = "schemas/cluster-config.schema.json";
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, f), "utf8"));

/** Every violation Python's jsonschema finds in each file, as "pointer: message". */
async function pythonJsonschema(schema: string, files: string[]): Promise<Record<string, string[]>> {
  const r = await tool(path.join(VENV_BIN, "python"), [
    path.join(ROOT, "test/helpers/jsonschema_check.py"),
    schema,
    ...files,
  ]);
  if (r.exitCode !== 0) throw new Error(r.all);
  return JSON.parse(r.stdout);
}

/** The schema a file names in its modeline would be this one: the cluster schema for clusters.<cluster>.<vm>. */
function schemaFor(file: string): string {
  return /^clusters:/m.test(fs.readFileSync(path.join(ROOT, file), "utf8")) ? CLUSTER : SOURCE;
}

describe("published schemas", () => {
  const ir = compile(ROOT);

  it("have https $ids under the collection's repository, the cluster schema's beside the source's", () => {
    const source = readJson(SOURCE);
    const cluster = readJson(CLUSTER);
    expect(source.$id).toMatch(/^https:\/\//);
    expect(source.$id.startsWith(`${ir.collection.repository}/`)).toBe(true);
    expect(cluster.$id).toBe(new URL(path.basename(CLUSTER), source.$id).href);
    expect(cluster.$schema).toBe(source.$schema);
  });

  it("the cluster schema is standard JSON Schema (ajv strict, no vfsgen keywords) built from the source's definitions", () => {
    const cluster = readJson(CLUSTER);
    expect(JSON.stringify(cluster)).not.toMatch(/"x-[a-z-]+":/);
    // strictRequired is a lint for required names a subschema does not define: the VM test names keys only
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(cluster);
    const defs = ir.schema.$defs as Record<string, { description?: string; properties?: Record<string, unknown> }>;
    expect(cluster.description).toBe(defs.cluster_config.description);
    expect(Object.keys(cluster.$defs.cluster_vm.properties)).toEqual(Object.keys(defs.cluster_vm.properties ?? {}));
    // a VM is what has a VM key; any other member of a cluster is left alone, as vfsgen validate does
    const config = (vm: unknown) => ({ clusters: { hpc: { controller: vm, notes: "kept for other tools" } } });
    expect(validate(config({ cpu_cores: 2 }))).toBe(true);
    expect(validate(config({ cpu_cores: 0 }))).toBe(false);
    expect(validate(config({ base_image_path: "/img.qcow2", virtio_fs_mounts: [{ tag: "t" }] }))).toBe(false);
    expect(validate(config({ base_image_path: "/img.qcow2" }))).toBe(true);
  });

  it("Python's jsonschema accepts the good corpus", async () => {
    const files = fs.readdirSync(path.join(ROOT, "test/valid")).map((f) => `test/valid/${f}`);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const found = await pythonJsonschema(schemaFor(file), [file]);
      expect(found).toEqual({ [file]: [] });
    }
  });

  it("Python's jsonschema refuses exactly the bad corpus files that have a JSON Schema violation (VFS010-VFS015, VFS018)", async () => {
    const dir = path.join(ROOT, "test/invalid");
    const cases = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => {
        const expected = fs.readFileSync(path.join(dir, f.replace(/\.yml$/, ".expected")), "utf8");
        const codes = [...new Set([...expected.matchAll(/error\[(VFS\d+)\]/g)].map((m) => m[1] as MessageCode))];
        return { file: `test/invalid/${f}`, codes };
      })
      // rules of reading the file (YAML, text, limits, which kind of file) come before any schema applies
      .filter((c) => !c.codes.some((code) => MessageOrigins[code] === "reading"));
    expect(cases.length).toBeGreaterThanOrEqual(50);
    const verdicts: string[] = [];
    for (const schema of [SOURCE, CLUSTER]) {
      const files = cases.filter((c) => schemaFor(c.file) === schema);
      const found = await pythonJsonschema(
        schema,
        files.map((c) => c.file),
      );
      for (const c of files) {
        const schemaRule = c.codes.some((code) => MessageOrigins[code] === "json-schema");
        verdicts.push(`${c.file} [${c.codes.join(" ")}]: ${found[c.file].length > 0 ? "refused" : "accepted"}`);
        expect(`${c.file} [${c.codes.join(" ")}]: ${found[c.file].length > 0 ? "refused" : "accepted"}`).toBe(
          `${c.file} [${c.codes.join(" ")}]: ${schemaRule ? "refused" : "accepted"}`,
        );
      }
    }
    // both kinds of verdict occur: JSON Schema rules are caught, validate-only rules are not
    expect(verdicts.some((v) => v.endsWith("refused"))).toBe(true);
    expect(verdicts.some((v) => v.endsWith("accepted"))).toBe(true);
  });

  it("one known difference: Python's pattern $ also matches before a final newline, ajv's does not", async () => {
    const file = path.join(tmpDir("newline"), "trailing-newline.json");
    fs.writeFileSync(file, JSON.stringify({ virtio_fs_mounts: [{ tag: "data\n", mount_point: "/mnt/data" }] }));
    expect(await pythonJsonschema(SOURCE, [file])).toEqual({ [file]: [] });
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validate(readJson(SOURCE), JSON.parse(fs.readFileSync(file, "utf8")))).toBe(false);
  });

  it("the README's modeline examples name a published schema and are valid under it and vfsgen validate", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const examples = [...readme.matchAll(/```yaml\n(# yaml-language-server: \$schema=(\S+)\n[\s\S]*?)```/g)];
    expect(examples.map((m) => path.basename(m[2])).sort()).toEqual([path.basename(CLUSTER), path.basename(SOURCE)]);
    const dir = tmpDir("modeline");
    for (const [i, [, text, named]] of examples.entries()) {
      const file = path.join(dir, `example-${i}.yml`);
      fs.writeFileSync(file, text);
      expect(await pythonJsonschema(path.join("schemas", path.basename(named)), [file])).toEqual({ [file]: [] });
      const r = await vfsgen(["validate", file]);
      expect([r.exitCode, r.stderr]).toEqual([0, ""]);
    }
  });

  it("the README lists every rule only vfsgen validate checks", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const region = readme.slice(
      readme.indexOf("<!-- BEGIN GENERATED: validate-only-rules -->"),
      readme.indexOf("<!-- END GENERATED: validate-only-rules -->"),
    );
    for (const [code, origin] of Object.entries(MessageOrigins)) {
      expect([code, region.includes(`| ${code} |`)]).toEqual([code, origin === "reading" || origin === "validate"]);
    }
  });
});
