/**
 * The import graph of src/ flows one way: schema → ir → emit → write, with the runtime (what the
 * modules bundle) at the bottom next to errors. Built with TypeScript's own import scanner, type-only
 * imports included: a type import is a dependency too.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const SRC = path.join(ROOT, "src");

/**
 * The allowed layering, as data: each layer (a folder of src/, "app" for the files at the top of src/)
 * and the layers it may import. Runtime code imports only errors, so a module bundle never pulls in
 * the compiler; the share rules both `vfsgen validate` and the modules enforce live in src/runtime.
 * input/inventory.ts dumps YAML with emit/yaml.ts, hence input → emit.
 */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  schema: ["errors"],
  ir: ["schema", "errors"],
  runtime: ["errors"],
  emit: ["ir", "schema", "runtime", "errors"],
  input: ["ir", "emit", "runtime", "errors"],
  render: ["ir", "input", "emit", "runtime", "errors"],
  write: ["emit", "errors"],
  app: ["schema", "ir", "emit", "input", "render", "write", "runtime", "errors"],
};

interface Edge {
  from: string;
  to: string;
  specifier: string;
}

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(full);
    return /\.(ts|js)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [base, `${base}.ts`, `${base}.js`, `${base}.d.ts`, path.join(base, "index.ts")].find(
    (c) => fs.existsSync(c) && fs.statSync(c).isFile(),
  );
}

function importGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = listTs(SRC);
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith(".")) continue; // packages and node built-ins
      const to = resolveRelative(file, specifier);
      if (to) edges.push({ from: rel(file), to: rel(to), specifier });
      else unresolved.push(`${rel(file)} imports ${specifier}`);
    }
  }
  return { files: files.map(rel), edges, unresolved };
}

function rel(file: string): string {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

/** "src/ir/build.ts" → "ir"; "src/cli.ts" → "app"; outside src/ → the path's first folder. */
function layer(file: string): string {
  const parts = file.split("/");
  if (parts[0] !== "src") return parts[0];
  return parts.length === 2 ? "app" : parts[1];
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(nodes: string[], edges: [string, string][]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) next.get(a)?.push(b);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

const graph = importGraph();
const crossing = (from: string, to: string) =>
  graph.edges.filter((e) => layer(e.from) === from && layer(e.to) === to).map((e) => `${e.from} → ${e.to}`);

describe("import graph of src/", () => {
  it("resolves every relative import (the graph below is complete)", () => {
    expect(graph.unresolved).toEqual([]);
    expect(graph.edges.length).toBeGreaterThan(50);
  });

  it("never imports from generated/: it holds only the deliverable seed tree", () => {
    expect(graph.edges.filter((e) => !e.to.startsWith("src/")).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
    expect(fs.readdirSync(path.join(ROOT, "generated")).sort()).toEqual(["ansible", "templates"]);
  });

  it("has no cycle between src/schema and src/ir: ir builds on schema", () => {
    expect(crossing("schema", "ir")).toEqual([]);
    expect(crossing("ir", "schema").length).toBeGreaterThan(0);
  });

  it("keeps runtime code (bundled into the modules) free of the compiler", () => {
    for (const compilerLayer of ["emit", "ir", "schema", "input", "render", "write", "app"]) {
      expect({ compilerLayer, imports: crossing("runtime", compilerLayer) }).toEqual({ compilerLayer, imports: [] });
    }
  });

  it("follows the allowed layering, which is itself acyclic", () => {
    const layers = Object.keys(ALLOWED);
    expect(
      cycles(
        layers,
        layers.flatMap((l) => ALLOWED[l].map((to): [string, string] => [l, to])),
      ),
    ).toEqual([]);
    const refused = graph.edges
      .filter((e) => layer(e.from) !== layer(e.to))
      .filter((e) => !(ALLOWED[layer(e.from)] ?? []).includes(layer(e.to)))
      .map((e) => `${e.from} (${layer(e.from)}) → ${e.to} (${layer(e.to)})`);
    expect(refused).toEqual([]);
    expect([...new Set(graph.files.map(layer))].filter((l) => !(l in ALLOWED))).toEqual([]);
  });

  it("has no import cycle between files", () => {
    expect(
      cycles(
        graph.files,
        graph.edges.map((e): [string, string] => [e.from, e.to]),
      ),
    ).toEqual([]);
  });
});
