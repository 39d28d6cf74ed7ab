/**
 * Emitters share one contract and one layout: every output path comes from src/emit/layout.ts and
 * lands in a managed root, or in a marked region or a file that layout.ts names (LICENSE); two
 * emitters cannot silently claim one path.
 */
import * as fs from "fs";
import * as path from "path";
import { compile, emitAll } from "../src/pipeline";
import { EMITTERS } from "../src/emit/registry";
import { MANAGED_ROOTS, OUTPUTS_OUTSIDE_MANAGED_ROOTS, managedRootOf } from "../src/emit/layout";
import { ROOT } from "./helpers/tools";

function listTs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listTs(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
    );
}

describe("emitter contract and layout", () => {
  it("writes output locations only in layout.ts", () => {
    // A quoted or templated path starting with a managed root (or naming a role or module file) outside
    // layout.ts is a second home for a path.
    const pathLiteral = new RegExp(
      `["\`'](${MANAGED_ROOTS.map((r) => r.replace(/\//g, "\\/")).join("|")})\\/|\\/(roles|plugins\\/modules|playbooks|templates|library)\\/|README\\.md#`,
    );
    const offenders = listTs(path.join(ROOT, "src/emit"))
      .filter((f) => path.basename(f) !== "layout.ts")
      .flatMap((f) =>
        fs
          .readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `${path.relative(ROOT, f)}:${i + 1}`, line })),
      )
      .filter(({ line }) => pathLiteral.test(line) && !line.trim().startsWith("//") && !line.trim().startsWith("*"))
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });

  it("puts every output in a managed root, or in a generated region or file layout.ts names", async () => {
    const outputs = await emitAll(compile(ROOT), ROOT);
    const outside = [...outputs.keys()].filter((f) => !managedRootOf(f));
    expect(outside.sort()).toEqual([...OUTPUTS_OUTSIDE_MANAGED_ROOTS].sort());
    expect(new Set(EMITTERS.map((e) => e.name)).size).toBe(EMITTERS.length);
  });

  it("refuses two emitters that produce different texts for one path, naming both", async () => {
    const ir = compile(ROOT);
    const a = { name: "first", emit: () => new Map([["generated/x.txt", "1"]]) };
    const b = { name: "second", emit: () => new Map([["generated/x.txt", "2"]]) };
    await expect(emitAll(ir, ROOT, [a, b])).rejects.toThrow(
      'emitters "first" and "second" produce different generated/x.txt',
    );
    await expect(emitAll(ir, ROOT, [a, a])).resolves.toEqual(new Map([["generated/x.txt", "1"]]));
  });
});
