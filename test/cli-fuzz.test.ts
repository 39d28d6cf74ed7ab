// Random YAML documents and random share lists through `vfsgen validate`, then `render` and `inventory`
// when validate accepts: the CLI (run in-process through main, as bin/vfsgen.js runs it) exits 0 or 1,
// never 70 and never with a stack trace, and every rendered domain is well-formed XML (xmllint).
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as jsyaml from "js-yaml";
import execa from "execa";
import { main } from "../src/cli";
import { tmpDir } from "./helpers/tools";

const dir = tmpDir("fuzz");
const rendered: string[] = [];
let fileNo = 0;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = jest
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** validate, and render + inventory when it passes; the invariants of every run. */
async function exercise(content: string | Buffer): Promise<void> {
  const file = path.join(dir, `case-${fileNo++}.yml`);
  fs.writeFileSync(file, content);
  const v = await run(["validate", file]);
  const context = `${file}\n${v.err}`;
  expect([context, v.code]).toEqual([context, v.code === 0 ? 0 : 1]);
  expect(v.err).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
  if (v.code !== 0) {
    expect(v.err).toMatch(/error\[VFS\d{3}\]/);
    return;
  }
  for (const args of [
    ["render", file],
    ["inventory", file],
  ]) {
    const r = await run(args);
    // a vars file has no VM to render: a usage error (exit 2), as documented
    const allowed =
      r.code === 2 && /error\[VFS060\] usage: .* is not a cluster configuration/.test(r.err) ? 2 : r.code === 0 ? 0 : 1;
    expect([args, r.code, r.err]).toEqual([args, allowed, r.err]);
    expect(r.err).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
    if (r.code !== 0) continue;
    if (args[0] === "render" && r.out) {
      const xml = path.join(dir, `render-${fileNo}.xml`);
      // one file per domain: xmllint wants one root element per document
      r.out.split(/(?=<!-- )/).forEach((d, i) => fs.writeFileSync(`${xml}.${i}.xml`, d));
      rendered.push(...r.out.split(/(?=<!-- )/).map((_, i) => `${xml}.${i}.xml`));
    }
    if (args[0] === "inventory") {
      const unsafe = new jsyaml.Type("!unsafe", { kind: "scalar", construct: (s: string) => s });
      expect(() => jsyaml.load(r.out, { schema: jsyaml.DEFAULT_SCHEMA.extend([unsafe]) })).not.toThrow();
    }
  }
}

// Strings that reach XML, paths and YAML: any unicode (incl. lone surrogates), and the usual suspects.
const hostile = fc.oneof(
  fc.fullUnicodeString({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom(
    "__proto__",
    "constructor",
    "toString",
    "2024",
    "-a",
    "a b",
    "<x>",
    "&amp;",
    "]]>",
    "{{ 7 * 7 }}",
    "\ufffe",
    "\ud800",
    "\x01",
    "..",
    "/",
  ),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(Infinity, -Infinity, NaN, 1e18, 0.0001, 0, -1, 1024, 16),
);
/** Mostly a valid value, sometimes a hostile one: so that many configurations get as far as render. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: other, weight: 1 });
const scalar = fc.oneof(hostile, number, fc.boolean(), fc.constant(null));
const share = fc.record(
  {
    tag: mostly(fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,35}$/), hostile),
    host_path: mostly(
      hostile.map((s) => `/${s}`),
      hostile,
    ),
    mount_point: mostly(
      hostile.map((s) => `/mnt/${s}`),
      hostile,
    ),
    readonly: mostly(fc.boolean(), scalar),
    queue_size: mostly(fc.constantFrom(16, 1024), number),
    thread_pool_size: mostly(fc.integer({ min: 0, max: 1024 }), number),
    cache: mostly(fc.constantFrom("auto", "always", "never"), hostile),
    binary_path: mostly(
      hostile.map((s) => `/usr/${s}`),
      scalar,
    ),
    options: mostly(fc.constant("rw,relatime,nofail"), hostile),
  },
  { requiredKeys: ["tag", "mount_point"] },
);
const vm = fc.record(
  {
    cpu_cores: mostly(fc.integer({ min: 1, max: 512 }), number),
    memory_gb: mostly(fc.double({ min: 0.0625, max: 16384, noNaN: true }), number),
    disk_gb: mostly(fc.integer({ min: 1, max: 1048576 }), number),
    ip_address: mostly(fc.constant("10.0.0.1"), hostile),
    virtio_fs_mounts: fc.array(share, { maxLength: 4 }),
    base_image_path: hostile,
  },
  { requiredKeys: [] },
);
const name = mostly(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), hostile);
const cluster = fc.record({ clusters: fc.dictionary(name, fc.dictionary(name, vm, { maxKeys: 3 }), { maxKeys: 3 }) });
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostile, tie("value"), { maxKeys: 4 }),
  ),
})).value;

const SEED = fs.readFileSync(path.join(__dirname, "valid/seed-cluster.yml"), "utf8");

describe("fuzzing the CLI with random YAML and random shares", () => {
  jest.setTimeout(120_000);

  it("random cluster configurations: exit 0 or 1, XML well-formed, inventory readable", async () => {
    await fc.assert(
      fc.asyncProperty(cluster, async (c) => exercise(jsyaml.dump(c, { lineWidth: -1 }))),
      { numRuns: 1000 },
    );
  });

  it("a valid configuration with one hostile string or number in one place", async () => {
    const places = [
      "host_path",
      "mount_point",
      "binary_path",
      "options",
      "tag",
      "ip_address",
      "cluster",
      "vm",
      "memory_gb",
      "cpu_cores",
      "queue_size",
      "thread_pool_size",
    ] as const;
    const bad = fc.oneof(
      fc.constantFrom("\ufffe", "\uffff", "\ud800", "\udc00x", "\x01", "\x7f", "\x85", "\u2028", "]]>", "-->", "<!--"),
      fc.fullUnicodeString({ maxLength: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...places), bad, number, async (place, text, n) => {
        const share: Record<string, unknown> = {
          tag: "data",
          host_path: "/data/x",
          mount_point: "/mnt/x",
          binary_path: "/usr/libexec/virtiofsd",
          options: "rw,nofail",
        };
        const vmData: Record<string, unknown> = {
          cpu_cores: 2,
          memory_gb: 2,
          ip_address: "10.0.0.1",
          virtio_fs_mounts: [share],
        };
        let [clusterName, vmName] = ["hpc", "controller"];
        if (place === "cluster") clusterName += text;
        else if (place === "vm") vmName += text;
        else if (["memory_gb", "cpu_cores"].includes(place)) vmData[place] = n;
        else if (["queue_size", "thread_pool_size"].includes(place)) share[place] = n;
        else if (place === "ip_address") vmData.ip_address += text;
        else share[place] = `${String(share[place])}${text}`;
        await exercise(jsyaml.dump({ clusters: { [clusterName]: { [vmName]: vmData } } }, { lineWidth: -1 }));
      }),
      { numRuns: 600 },
    );
  });

  it("random YAML values (vars files and anything else)", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, fc.array(share, { maxLength: 3 }), async (value, mounts) => {
        await exercise(jsyaml.dump({ virtio_fs_mounts: mounts, other: value }, { lineWidth: -1 }));
        await exercise(jsyaml.dump(value, { lineWidth: -1 }));
      }),
      { numRuns: 400 },
    );
  });

  it("random bytes and characters spliced into a valid configuration, and YAML syntax soup", async () => {
    const soup = fc.array(
      fc.constantFrom(
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "<<: ",
        "- ",
        ": ",
        "\n",
        "  ",
        "'",
        '"',
        "!!str ",
        "? ",
        "#",
        "|",
        ">",
        "\\u",
        "\t",
        "---\n",
        "~",
      ),
      { maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SEED.length),
        fc.oneof(
          fc.fullUnicodeString({ maxLength: 6 }),
          soup.map((s) => s.join("")),
        ),
        fc.uint8Array({ maxLength: 4 }),
        async (at, text, bytes) => {
          await exercise(SEED.slice(0, at) + text + SEED.slice(at));
          await exercise(
            Buffer.concat([Buffer.from(SEED.slice(0, at)), Buffer.from(bytes), Buffer.from(SEED.slice(at))]),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it("some of the random configurations were valid and rendered", () => {
    expect(rendered.length).toBeGreaterThan(20);
  });

  afterAll(async () => {
    // every domain rendered above, checked by libxml2 in one run
    if (!rendered.length) return;
    const r = await execa("xmllint", ["--noout", ...rendered], { reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });
});
