// Configurations are read by a fast reader (js-yaml with YAML 1.1 scalar rules) and, when a message
// needs a line, by `yaml` with positions. Both must see the same data, or a file could pass `vfsgen
// validate` and mean something else to Ansible.
import * as fs from "fs";
import * as path from "path";
import { loadYaml11Fast } from "../src/input/yaml11-fast";
import { parseSourceCarefully } from "../src/input/source-map";
import { compileConfigValidators } from "../src/schema/config-validators";
import { compile } from "../src/pipeline";
import { ROOT, tmpDir } from "./helpers/tools";

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const fixtures = [...yamlFiles(path.join(ROOT, "test")), ...yamlFiles(path.join(ROOT, "molecule"))].map((f) => path.relative(ROOT, f)).sort();

const SCALARS = [
  "yes", "Yes", "YES", "no", "No", "on", "On", "OFF", "off", "y", "Y", "n", "N", "true", "False", "TRUE",
  "0755", "'0755'", "\"0755\"", "0o755", "0x1F", "0b101", "1_000", "-12", "+7", "1:30", "1:30.5", "1.5", "1.5e3", "1e3",
  ".inf", "-.Inf", ".nan", "~", "null", "Null", "", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "rw,noatime", "/srv/a b",
  "!!str 0755", "!!int '0755'", "[a, b]", "{a: 1}", "|\n  two\n  lines", ">-\n  folded\n  text",
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

  it("reads unquoted 0755 as the octal number 493 and yes as true, like Ansible", () => {
    expect(loadYaml11Fast("mode: 0755\nreadonly: yes\n")!.data).toEqual({ mode: 493, readonly: true });
  });

  it("steps aside for aliases, duplicate keys, several documents and syntax errors", () => {
    for (const t of ["a: &x 1\nb: *x\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a:\n  - b\n c: 1\n"]) {
      expect(loadYaml11Fast(t)).toBeUndefined();
    }
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
