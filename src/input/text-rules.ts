import { Parser } from "yaml";
import { MAX_NESTING_DEPTH } from "./limits";

/*
 * Rules on the text of a configuration that hold before any YAML library sees it, identical for the
 * fast and the careful reader because both are only called once these pass.
 */

/**
 * PyYAML's Reader.NON_PRINTABLE (what Ansible refuses to read), with `u` so that a lone surrogate is one
 * code point: everything except tab, LF, CR, U+0020-U+007E, U+0085, U+00A0-U+D7FF, U+E000-U+FFFD and
 * U+10000-U+10FFFF. It is a subset of what XML 1.0 allows, so text that passes can always be written
 * to domain XML.
 */
const NON_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** The first character PyYAML would refuse, with its UTF-16 offset, or undefined. */
export function firstNonPrintable(text: string): { offset: number; char: string } | undefined {
  const m = NON_PRINTABLE.exec(text);
  return m ? { offset: m.index, char: codePointName(m[0]) } : undefined;
}

/** `U+FFFE`, the way operators look characters up. */
export function codePointName(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * An upper bound of the collection nesting, in one pass and without a parser: a flow level needs a
 * `[` or `{`, and a block level a distinct indentation column (two levels per column at most: a
 * sequence may sit at its parent key's column). Real files are far below the limit; only when this
 * bound is not, the exact depth is measured.
 */
function nestingUpperBound(text: string): number {
  let openers = 0;
  const columns = new Set<number>();
  let lineStart = true;
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) openers++;
    if (c === 0x0a) {
      lineStart = true;
      col = 0;
      continue;
    }
    if (lineStart) {
      // leading spaces, then compact block indicators ("- - x", "? ", ": ") each open a column
      if (c === 0x20) {
        col++;
        continue;
      }
      columns.add(col);
      if ((c === 0x2d || c === 0x3f || c === 0x3a) && text.charCodeAt(i + 1) === 0x20) {
        col += 2;
        i++;
        continue;
      }
      lineStart = false;
    }
  }
  return openers + 2 * columns.size + 1;
}

interface CstNode {
  type?: string;
  offset?: number;
  value?: CstNode;
  key?: CstNode | null;
  items?: { key?: CstNode | null; value?: CstNode | null }[];
}

/**
 * Where the nesting first goes deeper than MAX_NESTING_DEPTH (UTF-16 offset of that collection), or
 * undefined. `yaml`'s CST parser keeps its own stack, so this is safe at any depth.
 */
export function tooDeep(text: string): { offset: number } | undefined {
  if (nestingUpperBound(text) <= MAX_NESTING_DEPTH) return undefined;
  for (const token of new Parser().parse(text) as Iterable<CstNode>) {
    const stack: [CstNode | null | undefined, number][] = [[token, 0]];
    while (stack.length) {
      const [node, depth] = stack.pop()!;
      if (!node || typeof node !== "object") continue;
      if (node.type === "document") stack.push([node.value, depth]);
      else if (node.type === "block-map" || node.type === "block-seq" || node.type === "flow-collection") {
        if (depth + 1 > MAX_NESTING_DEPTH) return { offset: node.offset ?? 0 };
        for (const item of node.items ?? []) stack.push([item.value, depth + 1], [item.key, depth + 1]);
      }
    }
  }
  return undefined;
}
