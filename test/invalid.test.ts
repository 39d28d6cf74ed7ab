import * as fs from "fs";
import * as path from "path";
import { compile } from "../src/pipeline";
import { validateFile } from "../src/input/validate";
import { formatDiagnostic } from "../src/errors/messages";
import { ROOT, vfsgen } from "./helpers/tools";

// Each test/invalid/NAME.yml sits beside NAME.expected: the exact messages, in order, nothing more.
const dir = path.join(ROOT, "test/invalid");
const cases = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".yml"))
  .sort();

describe("invalid inputs", () => {
  const ir = compile(ROOT);
  const cwd = process.cwd();
  beforeAll(() => process.chdir(ROOT));
  afterAll(() => process.chdir(cwd));

  it("has a corpus of at least 80 files, each with its expected messages", () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    for (const c of cases) expect(fs.existsSync(path.join(dir, c.replace(/\.yml$/, ".expected")))).toBe(true);
  });

  it.each(cases)("%s", (file) => {
    const expected = fs.readFileSync(path.join(dir, file.replace(/\.yml$/, ".expected")), "utf8");
    const result = validateFile(`test/invalid/${file}`, ir);
    expect(result.diagnostics.map(formatDiagnostic).join("\n") + "\n").toBe(expected);
  });

  it("reports every problem of every file at once through the CLI, exit 1", async () => {
    const files = ["test/invalid/09-tag-duplicate.yml", "test/invalid/21-mode-unquoted.yml"];
    const r = await vfsgen(["validate", ...files]);
    expect(r.exitCode).toBe(1);
    const expected = files.map((f) => fs.readFileSync(f.replace(/\.yml$/, ".expected"), "utf8")).join("");
    expect(r.stderr).toBe(expected);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it("the CLI (fast reader, compiled validators kept in .cache/validators) gives the same messages for every case", async () => {
    const files = cases.map((c) => `test/invalid/${c}`);
    const expected = files.map((f) => fs.readFileSync(f.replace(/\.yml$/, ".expected"), "utf8")).join("");
    const first = await vfsgen(["validate", ...files]);
    expect(first.stderr).toBe(expected);
    expect(fs.readdirSync(path.join(ROOT, ".cache/validators")).some((f) => f.startsWith("config-validators-"))).toBe(
      true,
    );
    const cached = await vfsgen(["validate", ...files]);
    expect(cached.stderr).toBe(expected);
    expect(cached.exitCode).toBe(1);
  });
});
