import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import { diagnostic, pointerJoin, type Diagnostic } from "../errors/messages";
import { loadYaml11Fast } from "./yaml11-fast";
import { pyyamlTags } from "./yaml11-tags";
import { inspectData, type DataProblem } from "./data-walk";
import { MAX_EXPANDED_VALUES, MAX_NESTING_DEPTH } from "./limits";
import { firstNonPrintable, tooDeep } from "./text-rules";

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
  const doc = parseDocument(text, {
    version: "1.1",
    customTags: pyyamlTags,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: "error",
  });
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
function sourceDocument(
  file: string,
  text: string,
  data: unknown,
  parsed?: ReturnType<typeof parseWithPositions>,
): SourceDocument {
  let positions: { index: Map<string, Position>; lineCounter: LineCounter } | undefined;
  const get = () => {
    if (!positions) {
      try {
        const p = parsed ?? parseWithPositions(text);
        positions = { index: indexPositions(p.doc), lineCounter: p.lineCounter };
      } catch {
        // text the fast reader took but `yaml` cannot index: messages fall back to the document start
        positions = { index: new Map(), lineCounter: new LineCounter() };
      }
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

/** 1-based line and column (UTF-16 units, as `yaml` counts) of an offset. */
function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  let line = 1;
  for (let i = before.indexOf("\n"); i >= 0; i = before.indexOf("\n", i + 1)) line++;
  return { line, col: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

/** A pointer with the characters PyYAML refuses written as \\uXXXX escapes. */
function printablePointer(pointer: string): string {
  let out = pointer;
  for (let bad = firstNonPrintable(out); bad; bad = firstNonPrintable(out)) {
    const c = String.fromCodePoint(out.codePointAt(bad.offset)!);
    out =
      out.slice(0, bad.offset) +
      [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`).join("") +
      out.slice(bad.offset + c.length);
  }
  return out;
}

/** The innermost value whose source contains an offset ("" when none can be told, or the text is too deep to parse safely). */
export function pointerAt(text: string, offset: number): string {
  if (tooDeep(text)) return "";
  try {
    let best = { pointer: "", start: -1 };
    for (const [pointer, pos] of indexPositions(parseWithPositions(text).doc)) {
      if (pos.end !== undefined && pos.value <= offset && offset < pos.end && pos.value >= best.start)
        best = { pointer, start: pos.value };
    }
    return best.pointer;
  } catch {
    return "";
  }
}

function located(file: string, d: Diagnostic, pos: { line: number; col: number }): Diagnostic {
  return { ...d, file, line: pos.line, col: pos.col };
}

/** Data problems (inspectData) as diagnostics. */
function dataDiagnostics(doc: SourceDocument, problems: DataProblem[]): Diagnostic[] {
  return problems.map((p) => {
    const d =
      p.kind === "cycle"
        ? diagnostic("VFS001", p.pointer, {
            detail:
              "an alias refers to a collection that contains it (a recursive structure), which JSON and Ansible variables cannot hold",
          })
        : p.kind === "expansion"
          ? diagnostic("VFS001", p.pointer, {
              detail: `aliases expand the document to more than ${MAX_EXPANDED_VALUES} values (an alias bomb?); reuse anchors without nesting them so deeply`,
            })
          : p.kind === "depth"
            ? diagnostic("VFS006", p.pointer, { limit: MAX_NESTING_DEPTH })
            : diagnostic("VFS005", p.pointer, {
                char: p.char,
                where: p.inKey ? " in a key (written as an escape)" : " in a value (written as an escape)",
              });
    // the pointer itself may hold the character: the message must stay printable
    return {
      ...located(doc.file, d, doc.locate(p.pointer, p.kind === "character" && p.inKey)),
      pointer: printablePointer(p.pointer),
    };
  });
}

/**
 * Reads a configuration's text into data, or into the diagnostics that say why not. Text PyYAML
 * would refuse and nesting too deep for the parsers are refused before either reader runs, so the
 * fast and the careful reader see the same texts; the loaded data is then checked for what aliases
 * and escapes can hide (data-walk.ts).
 */
export function parseSource(file: string, text: string): { doc?: SourceDocument; diagnostics: Diagnostic[] } {
  const bad = firstNonPrintable(text);
  if (bad) {
    const pointer = printablePointer(pointerAt(text, bad.offset));
    return {
      diagnostics: [
        located(file, diagnostic("VFS005", pointer, { char: bad.char, where: "" }), linePos(text, bad.offset)),
      ],
    };
  }
  const deep = tooDeep(text);
  if (deep)
    return {
      diagnostics: [located(file, diagnostic("VFS006", "", { limit: MAX_NESTING_DEPTH }), linePos(text, deep.offset))],
    };

  let doc: SourceDocument;
  const fast = loadYaml11Fast(text);
  if (fast) doc = sourceDocument(file, text, fast.data);
  else {
    let parsed: ReturnType<typeof parseWithPositions>;
    try {
      parsed = parseWithPositions(text);
    } catch (e) {
      return {
        diagnostics: [located(file, diagnostic("VFS001", "", { detail: (e as Error).message }), { line: 1, col: 1 })],
      };
    }
    const { doc: yamlDoc, lineCounter } = parsed;
    if (yamlDoc.errors.length) {
      return {
        diagnostics: yamlDoc.errors.map((e) => {
          const detail = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
          return located(file, diagnostic("VFS001", "", { detail }), lineCounter.linePos(e.pos[0]));
        }),
      };
    }
    let data: unknown;
    try {
      // No alias budget here: aliases resolve to shared objects, and inspectData measures what they expand to.
      data = yamlDoc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      // an alias whose anchor comes later (or never): `yaml` throws when resolving it
      const alias = /: (\S+)$/.exec((e as Error).message)?.[1];
      const at = alias ? text.indexOf(`*${alias}`) : -1;
      return {
        diagnostics: [
          located(
            file,
            diagnostic("VFS001", "", { detail: (e as Error).message }),
            at >= 0 ? linePos(text, at) : { line: 1, col: 1 },
          ),
        ],
      };
    }
    doc = sourceDocument(file, text, data, parsed);
  }
  const problems = inspectData(doc.data);
  if (problems.length) return { diagnostics: dataDiagnostics(doc, problems) };
  return { doc, diagnostics: [] };
}

/** The slow reader alone, without the checks parseSource adds for both readers (tests compare it with the fast one). */
export function parseSourceCarefully(text: string): unknown {
  const { doc } = parseWithPositions(text);
  if (doc.errors.length) throw new Error(doc.errors[0].message);
  return doc.toJS({ maxAliasCount: -1 });
}
