import { pointerJoin } from "../errors/messages";
import { MAX_EXPANDED_VALUES, MAX_NESTING_DEPTH } from "./limits";
import { firstNonPrintable } from "./text-rules";

/** Something in loaded data that no consumer may be handed, with the JSON pointer where it is. */
export type DataProblem =
  | { kind: "cycle"; pointer: string }
  | { kind: "expansion"; pointer: string }
  | { kind: "depth"; pointer: string }
  | { kind: "character"; pointer: string; char: string; inKey: boolean };

type Node = object;

function children(node: Node): [string, unknown][] {
  if (Array.isArray(node)) return node.map((v, i) => [String(i), v]);
  if (node instanceof Map) return [...node].map(([k, v]) => [String(k), v]);
  if (node instanceof Set) return [...node].map((v, i) => [String(i), v]);
  if (node instanceof Date || ArrayBuffer.isView(node)) return [];
  return Object.entries(node);
}

/**
 * Checks loaded YAML data before anything else walks it. Aliases make the data a graph of shared
 * objects, so sizes and heights are computed once per object (iteratively: the depth is not known
 * yet) and a reused anchor costs nothing here, while what it expands to is measured:
 * - a cycle (an alias inside its own anchor) cannot become JSON or an Ansible variable;
 * - more than MAX_EXPANDED_VALUES values once expanded is an alias bomb;
 * - deeper than MAX_NESTING_DEPTH (aliases can stack depth the text does not show);
 * - strings (keys too) that YAML escapes such as "\ud800" or "\x01" turned into characters PyYAML
 *   refuses in the text itself: they would make domain XML not well-formed.
 */
export function inspectData(root: unknown): DataProblem[] {
  const size = new Map<Node, number>();
  const height = new Map<Node, number>();
  const onPath = new Set<Node>();
  const out: DataProblem[] = [];
  const checkString = (s: string, pointer: string, inKey: boolean) => {
    const bad = firstNonPrintable(s);
    if (bad) out.push({ kind: "character", pointer, char: bad.char, inKey });
  };
  if (typeof root === "string") checkString(root, "", false);
  if (root === null || typeof root !== "object") return out;

  // Post-order with an explicit stack. A node is on the path while its children are being measured;
  // meeting it again there is a cycle. A node reached again from elsewhere is measured once.
  const stack: { node: Node; pointer: string; kids?: [string, unknown][] }[] = [{ node: root, pointer: "" }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (!top.kids) {
      if (size.has(top.node)) {
        stack.pop();
        continue;
      }
      onPath.add(top.node);
      top.kids = children(top.node);
      const isMapLike = !Array.isArray(top.node) && !(top.node instanceof Set);
      for (const [k, v] of top.kids) {
        const p = pointerJoin(top.pointer, k);
        if (isMapLike) checkString(k, p, true);
        if (typeof v === "string") checkString(v, p, false);
        if (v === null || typeof v !== "object") continue;
        if (onPath.has(v)) return [...out, { kind: "cycle", pointer: p }];
        if (!size.has(v)) stack.push({ node: v, pointer: p });
      }
      continue;
    }
    stack.pop();
    onPath.delete(top.node);
    let n = 1;
    let h = 1;
    for (const [, v] of top.kids) {
      if (v !== null && typeof v === "object") {
        n += size.get(v)!;
        h = Math.max(h, height.get(v)! + 1);
      } else n += 1;
    }
    size.set(top.node, Math.min(n, Number.MAX_SAFE_INTEGER));
    height.set(top.node, h);
  }
  if (height.get(root)! > MAX_NESTING_DEPTH) out.push({ kind: "depth", pointer: deepest(root, height) });
  if (size.get(root)! > MAX_EXPANDED_VALUES) out.push({ kind: "expansion", pointer: explosion(root, size) });
  return out;
}

/** Pointer of the collection at depth MAX_NESTING_DEPTH + 1 on the deepest path. */
function deepest(root: Node, height: Map<Node, number>): string {
  let node = root;
  let pointer = "";
  for (let d = 1; d <= MAX_NESTING_DEPTH; d++) {
    const next = children(node).find(
      ([, v]) => v !== null && typeof v === "object" && height.get(v) === height.get(node)! - 1,
    );
    if (!next) break;
    node = next[1] as Node;
    pointer = pointerJoin(pointer, next[0]);
  }
  return pointer;
}

/** The smallest value on the path into the biggest expansion that alone exceeds the budget: where the alias bomb is. */
function explosion(root: Node, size: Map<Node, number>): string {
  let node = root;
  let pointer = "";
  for (;;) {
    const next = children(node).find(
      ([, v]) => v !== null && typeof v === "object" && size.get(v)! > MAX_EXPANDED_VALUES,
    );
    if (!next) return pointer;
    node = next[1] as Node;
    pointer = pointerJoin(pointer, next[0]);
  }
}
