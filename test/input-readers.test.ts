// Configurations are read by a fast reader (js-yaml with YAML 1.1 scalar rules) and, when a message
// needs a line, by `yaml` with positions. Both must see the same data, or a file could pass `vfsgen
// validate` and mean something else to Ansible.
import * as fs from "fs";
import * as path from "path";
import { loadYaml11Fast } from "../src/input/yaml11-fast";
import { parseSource, parseSourceCarefully } from "../src/input/source-map";
import { compileConfigValidators } from "../src/ir/config-validators";
import { compile } from "../src/pipeline";
import execa from "execa";
import { ROOT, tmpDir, VENV_BIN } from "./helpers/tools";

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const fixtures = [...yamlFiles(path.join(ROOT, "test")), ...yamlFiles(path.join(ROOT, "molecule"))]
  .map((f) => path.relative(ROOT, f))
  .sort();

const SCALARS = [
  "yes",
  "Yes",
  "YES",
  "no",
  "No",
  "on",
  "On",
  "OFF",
  "off",
  "y",
  "Y",
  "n",
  "N",
  "true",
  "False",
  "TRUE",
  "tRue",
  "0755",
  "'0755'",
  '"0755"',
  "0o755",
  "0x1F",
  "0b101",
  "1_000",
  "-12",
  "+7",
  "0",
  "09",
  "1:30",
  "01:30",
  "1:30.5",
  "1.5",
  "1.5e3",
  "1.5e+3",
  "1e3",
  ".5",
  "-.5",
  ".",
  "1.",
  ".inf",
  "-.Inf",
  ".nan",
  "~",
  "null",
  "Null",
  "",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "rw,noatime",
  "/srv/a b",
  "!!str 0755",
  "!!int '0755'",
  "[a, b]",
  "{a: 1}",
  "|\n  two\n  lines",
  ">-\n  folded\n  text",
];

describe("the fast and the careful YAML readers", () => {
  it.each(fixtures)("%s: same data, or the fast reader steps aside", (f) => {
    const text = fs.readFileSync(path.join(ROOT, f), "utf8");
    const fast = loadYaml11Fast(text);
    let careful: unknown;
    try {
      careful = parseSourceCarefully(text);
    } catch {
      expect(fast).toBeUndefined(); // what `yaml` refuses, the fast reader must not accept
      return;
    }
    if (fast) expect(fast.data).toEqual(careful);
  });

  it.each(SCALARS)("value %j reads the same in both (YAML 1.1)", (v) => {
    const text = `k: ${v.includes("\n") ? v.replace(/\n/g, "\n ") : v}\n`;
    const fast = loadYaml11Fast(text);
    expect(fast).toBeDefined();
    expect(fast!.data).toEqual(parseSourceCarefully(text));
  });

  it("reads every value with the type and value PyYAML (Ansible's YAML reader) gives it", async () => {
    const docs = SCALARS.map((v) => `k: ${v.includes("\n") ? v.replace(/\n/g, "\n ") : v}\n`);
    const py =
      "import json, sys, yaml\nfor d in json.load(sys.stdin):\n    v = yaml.safe_load(d)['k']\n" +
      "    print(json.dumps([type(v).__name__, repr(v) if type(v).__name__ in ('float', 'date', 'datetime') else v]))\n";
    const r = await execa(path.join(VENV_BIN, "python"), ["-c", py], { input: JSON.stringify(docs), reject: false });
    expect(r.stderr).toBe("");
    const pyyaml = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as [string, unknown]);
    const verdicts = docs.map((d, i) => {
      const ours = (loadYaml11Fast(d)!.data as { k: unknown }).k;
      const [type, value] = pyyaml[i];
      const same =
        type === "float"
          ? typeof ours === "number" &&
            (Number.isNaN(ours) ? value === "nan" : ours === Number(String(value).replace("inf", "Infinity")))
          : type === "date" || type === "datetime"
            ? ours instanceof Date
            : JSON.stringify(ours) === JSON.stringify(value) && typeof ours === typeof value;
      return `${SCALARS[i]}: ${same ? "same" : `ours ${JSON.stringify(ours)}, PyYAML ${type} ${JSON.stringify(value)}`}`;
    });
    expect(verdicts).toEqual(SCALARS.map((v) => `${v}: same`));
  });

  it("reads unquoted 0755 as the octal number 493 and yes as true, like Ansible", () => {
    expect(loadYaml11Fast("mode: 0755\nreadonly: yes\n")!.data).toEqual({ mode: 493, readonly: true });
  });

  it("steps aside for aliases, duplicate keys, several documents and syntax errors", () => {
    for (const t of ["a: &x 1\nb: *x\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a:\n  - b\n c: 1\n"]) {
      expect(loadYaml11Fast(t)).toBeUndefined();
    }
  });
});

describe("text both readers refuse alike", () => {
  // Code points on both sides of every edge of PyYAML's Reader.NON_PRINTABLE.
  const CODE_POINTS = [
    0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x84, 0x85, 0x86, 0x9f, 0xa0,
    0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10ffff,
  ];
  const doc = (cp: number) => `k: "a${String.fromCodePoint(cp)}b"\n`;

  it("refuses, as raw text, exactly the characters PyYAML refuses", async () => {
    const py =
      "import json, sys, yaml\nfor cp in json.load(sys.stdin):\n    try:\n        yaml.safe_load('k: \"a' + chr(cp) + 'b\"\\n')\n        print('ok')\n" +
      "    except yaml.YAMLError as e:\n        print('refused' if 'special characters are not allowed' in str(e) else 'other: ' + str(e).splitlines()[0])\n";
    const r = await execa(path.join(VENV_BIN, "python"), ["-c", py], {
      input: JSON.stringify(CODE_POINTS),
      reject: false,
    });
    expect(r.stderr).toBe("");
    const pyyaml = r.stdout.trim().split("\n");
    const ours = CODE_POINTS.map((cp) => {
      const d = parseSource("f.yml", doc(cp)).diagnostics;
      return d.length === 0 ? "ok" : d[0].code === "VFS005" ? "refused" : `other: ${d[0].message}`;
    });
    expect(CODE_POINTS.map((cp, i) => `U+${cp.toString(16)} ${ours[i]}`)).toEqual(
      CODE_POINTS.map((cp, i) => `U+${cp.toString(16)} ${pyyaml[i]}`),
    );
  });

  it.each([
    ["a raw U+FFFE", 'k: "a\uFFFEb"\n'],
    ["an escaped lone surrogate", 'k: "\\ud800"\n'],
    ["an escaped U+FFFF in a key", '"\\uffff": 1\n'],
    ["an escaped control character", 'k: "\\x01"\n'],
    ["nesting 200 deep", `k: ${"[".repeat(200)}${"]".repeat(200)}\n`],
    [
      "an alias bomb",
      "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
        "bcdefg"
          .split("")
          .map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefg"[i]}`).join(", ")}]\n`)
          .join(""),
    ],
  ])("%s: the same diagnostics whether the fast or the careful reader loads it", (_, text) => {
    // an alias sends a text to the careful reader (yaml11-fast.ts steps aside for aliases)
    const careful = parseSource("f.yml", `${text}zz: &zz 1\nzy: *zz\n`).diagnostics.map((d) => [
      d.code,
      d.pointer,
      d.line,
      d.col,
    ]);
    const either = parseSource("f.yml", text).diagnostics.map((d) => [d.code, d.pointer, d.line, d.col]);
    expect(either.length).toBeGreaterThan(0);
    expect(either).toEqual(careful);
  });
});

describe("compiled configuration validators", () => {
  it("the cached standalone code judges every fixture exactly as freshly compiled validators", () => {
    const ir = compile(ROOT);
    const dir = tmpDir("validators");
    const fresh = compileConfigValidators(ir, dir);
    expect(fs.readdirSync(dir)).toHaveLength(1);
    const cached = compileConfigValidators(ir, dir);
    expect(cached).not.toBe(fresh);
    const inputs = fixtures.map((f) => {
      try {
        return parseSourceCarefully(fs.readFileSync(path.join(ROOT, f), "utf8"));
      } catch {
        return undefined;
      }
    });
    let invalid = 0;
    for (const data of inputs) {
      for (const k of ["cluster", "vm", "vars"] as const) {
        const a = fresh[k](data);
        const b = cached[k](data);
        expect(b).toBe(a);
        expect(cached[k].errors ?? null).toEqual(fresh[k].errors ?? null);
        if (!a) invalid++;
      }
    }
    expect(invalid).toBeGreaterThan(50);
  });
});
