import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import { diagnostic, pointerJoin, type Diagnostic } from "../errors/messages";
import { loadYaml11Fast } from "./yaml11-fast";
import { pyyamlTags } from "./yaml11-tags";

/** A parsed YAML/JSON input with a map from JSON pointer to its line and column. */
export interface SourceDocument {
  file: string;
  data: unknown;
  /** Line and column (1-based) of the value at a pointer, or of its key when `key` is asked for. */
  locate(pointer: string, key?: boolean): { line: number; col: number };
  /** The source text of the value at a pointer, as written. */
  raw(pointer: string): string | undefined;
}

interface Position {
  value: number;
  end?: number;
  key?: number;
}

/**
 * Parses as YAML 1.1 with PyYAML's scalar rules, the dialect Ansible reads: `yes` is a boolean and an
 * unquoted 0755 an octal number, so we see exactly what Ansible would.
 */
function parseWithPositions(text: string): { doc: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: "1.1", customTags: pyyamlTags, lineCounter, prettyErrors: false, uniqueKeys: true });
  return { doc, lineCounter };
}

function indexPositions(doc: Document): Map<string, Position> {
  const index = new Map<string, Position>();
  const walk = (node: Node | null | undefined, pointer: string, keyOffset?: number) => {
    if (!node) return;
    index.set(pointer, { value: node.range?.[0] ?? 0, end: node.range?.[1], key: keyOffset });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as Node | null;
        const child = pointerJoin(pointer, k);
        if (pair.value) walk(pair.value as Node, child, keyNode?.range?.[0]);
        else index.set(child, { value: keyNode?.range?.[0] ?? 0, key: keyNode?.range?.[0] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node, pointerJoin(pointer, i)));
    }
  };
  walk(doc.contents as Node, "");
  return index;
}

/** A document whose positions are computed on first use: valid input never pays for them. */
function sourceDocument(file: string, text: string, data: unknown, parsed?: ReturnType<typeof parseWithPositions>): SourceDocument {
  let positions: { index: Map<string, Position>; lineCounter: LineCounter } | undefined;
  const get = () => {
    if (!positions) {
      const p = parsed ?? parseWithPositions(text);
      positions = { index: indexPositions(p.doc), lineCounter: p.lineCounter };
    }
    return positions;
  };
  const locate = (pointer: string, key = false) => {
    const { index, lineCounter } = get();
    // An unknown or missing member has no node: fall back to the nearest ancestor that has one.
    let p = pointer;
    while (!index.has(p) && p !== "") p = p.slice(0, p.lastIndexOf("/"));
    const hit = index.get(p) ?? { value: 0 };
    const pos = lineCounter.linePos(key && hit.key !== undefined ? hit.key : hit.value);
    return { line: pos.line, col: pos.col };
  };
  const raw = (pointer: string) => {
    const hit = get().index.get(pointer);
    return hit && hit.end !== undefined ? text.slice(hit.value, hit.end) : undefined;
  };
  return { file, data, locate, raw };
}

export function parseSource(file: string, text: string): { doc?: SourceDocument; diagnostics: Diagnostic[] } {
  const fast = loadYaml11Fast(text);
  if (fast) return { doc: sourceDocument(file, text, fast.data), diagnostics: [] };
  const parsed = parseWithPositions(text);
  const { doc, lineCounter } = parsed;
  if (doc.errors.length) {
    return {
      diagnostics: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const detail = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        return { ...diagnostic("VFS001", "", { detail }), file, line: pos.line, col: pos.col };
      }),
    };
  }
  return { doc: sourceDocument(file, text, doc.toJS({ maxAliasCount: 1000 }), parsed), diagnostics: [] };
}

/** The slow reader alone (tests compare it with the fast one). */
export function parseSourceCarefully(text: string): unknown {
  const { doc } = parseWithPositions(text);
  if (doc.errors.length) throw new Error(doc.errors[0].message);
  return doc.toJS({ maxAliasCount: 1000 });
}
