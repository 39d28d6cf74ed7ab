import type { JsonSchema } from "./json-schema";

/**
 * A default is written once in the schema. Where a second property has the same default (a module
 * argument and the role variable the role passes to it), it says so with "x-default-from": a local
 * JSON pointer to the property that holds the value. "x-fallback-from" names the value a module falls
 * back to when an argument without a default stays unset (stored as "x-fallback", for the IR).
 * Resolved in place, so ajv (useDefaults), the IR and every artifact see an ordinary default.
 */
export function linkDefaults(schema: JsonSchema): { pointer: string; detail: string }[] {
  const problems: { pointer: string; detail: string }[] = [];
  const target = (ref: unknown, at: string): JsonSchema | undefined => {
    if (typeof ref !== "string" || !ref.startsWith("#/")) {
      problems.push({
        pointer: at,
        detail: `expected a local JSON pointer such as "#/properties/NAME", got ${JSON.stringify(ref)}`,
      });
      return undefined;
    }
    let node: unknown = schema;
    for (const seg of ref.slice(2).split("/"))
      node = (node as JsonSchema | undefined)?.[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
    const n = node as JsonSchema | undefined;
    if (!n || typeof n !== "object" || n.default === undefined || n["x-default-from"] !== undefined) {
      problems.push({ pointer: at, detail: `${ref} names no property with a default of its own` });
      return undefined;
    }
    return n;
  };
  const walk = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${pointer}/${i}`));
    if (!node || typeof node !== "object") return;
    const n = node as JsonSchema;
    if (n["x-default-from"] !== undefined) {
      if (n.default !== undefined)
        problems.push({ pointer, detail: "has both default and x-default-from: write the default once" });
      else {
        const t = target(n["x-default-from"], `${pointer}/x-default-from`);
        if (t) n.default = structuredClone(t.default);
      }
    }
    if (n["x-fallback-from"] !== undefined) {
      const t = target(n["x-fallback-from"], `${pointer}/x-fallback-from`);
      if (t) n["x-fallback"] = structuredClone(t.default);
    }
    for (const [k, v] of Object.entries(n))
      if (k !== "x-ansible-module" && k !== "default" && k !== "enum")
        walk(v, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
  };
  walk(schema, "");
  return problems;
}
