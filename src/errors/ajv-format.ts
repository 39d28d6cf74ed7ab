import type { ErrorObject } from "ajv";

/** One schema violation in the words an operator reads: where (JSON pointer) and what was expected. */
export interface Violation {
  pointer: string;
  keyword: string;
  message: string;
}

interface NumericSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/**
 * What a numeric schema accepts, in words: "an integer from 1 to 512", "a number from 0.0625 to
 * 16384", "an integer of at least 1". Undefined for a schema without bounds.
 */
export function numericRange(s: NumericSchema | undefined): string | undefined {
  if (!s || (s.type !== "integer" && s.type !== "number")) return undefined;
  const what = s.type === "integer" ? "an integer" : "a number";
  const low = s.minimum !== undefined ? { n: s.minimum, open: false } : s.exclusiveMinimum !== undefined ? { n: s.exclusiveMinimum, open: true } : undefined;
  const high = s.maximum !== undefined ? { n: s.maximum, open: false } : s.exclusiveMaximum !== undefined ? { n: s.exclusiveMaximum, open: true } : undefined;
  if (low && high && !low.open && !high.open) return `${what} from ${low.n} to ${high.n}`;
  const parts = [
    low ? (low.open ? `greater than ${low.n}` : `of at least ${low.n}`) : undefined,
    high ? (high.open ? `less than ${high.n}` : `at most ${high.n}`) : undefined,
  ].filter(Boolean);
  return parts.length ? `${what} ${parts.join(" and ")}` : undefined;
}

/** A value as the operator wrote it: YAML's .inf and .nan for the numbers JSON has no words for. */
export function showValue(v: unknown): string {
  if (typeof v === "number") return Number.isNaN(v) ? ".nan" : v === Infinity ? ".inf" : v === -Infinity ? "-.inf" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return typeName(v);
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const parent = e.parentSchema as NumericSchema | undefined;
  const range = numericRange(parent);
  if (parent?.enum && e.keyword === "type") return `expected one of ${parent.enum.map((v) => JSON.stringify(v)).join(", ")}, got ${showValue(e.data)}`;
  if (range && ["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].includes(e.keyword)) return `expected ${range}, got ${showValue(e.data)}`;
  switch (e.keyword) {
    case "required":
      return `missing required property "${p.missingProperty}"`;
    case "additionalProperties":
      return `unknown property "${p.additionalProperty}"`;
    case "type":
      return `expected ${p.type}, got ${typeName(e.data)}`;
    case "enum":
      return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${showValue(e.data)}`;
    case "const":
      return `expected ${JSON.stringify(p.allowedValue)}`;
    case "pattern":
      return `expected ${expected(e) ?? `a value matching ${p.pattern}`}, got ${JSON.stringify(e.data)}`;
    case "minLength":
      return `expected at least ${p.limit} character${p.limit === 1 ? "" : "s"}, got ${String(e.data).length}`;
    case "maxLength":
      return `expected at most ${p.limit} characters, got ${String(e.data).length}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `expected a number ${p.comparison} ${p.limit}, got ${showValue(e.data)}`;
    case "oneOf":
      return "expected exactly one of the alternatives (see the documentation of this object)";
    default:
      return e.message ?? e.keyword;
  }
}

/** The schema's own words for what a pattern accepts (x-expected), when the validator was compiled verbose. */
function expected(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  return typeof parent?.["x-expected"] === "string" ? (parent["x-expected"] as string) : undefined;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "timestamp";
  if (typeof v === "number") return Number.isNaN(v) ? ".nan" : !Number.isFinite(v) ? (v > 0 ? ".inf" : "-.inf") : Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/**
 * Turns ajv errors into violations. Drops the noise ajv reports alongside the real cause
 * (the "if"/"oneOf" wrappers whose branches are already reported).
 */
export function formatAjvErrors(errors: readonly ErrorObject[] | null | undefined): Violation[] {
  if (!errors) return [];
  // The first cause at a pointer hides its consequences: a wrong type makes enum and pattern moot,
  // a wrong length makes the pattern moot.
  const hidden = new Map<string, Set<string>>();
  for (const e of errors) {
    const moot = e.keyword === "type" ? ["enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] : e.keyword === "minLength" || e.keyword === "maxLength" ? ["pattern"] : [];
    if (!hidden.has(e.instancePath)) hidden.set(e.instancePath, new Set());
    moot.forEach((k) => hidden.get(e.instancePath)!.add(k));
  }
  errors = errors.filter((e) => !hidden.get(e.instancePath)?.has(e.keyword));
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === "if") continue;
    // An unknown property is reported at the property itself, not at its parent object.
    const pointer =
      e.keyword === "additionalProperties"
        ? `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty).replace(/~/g, "~0").replace(/\//g, "~1")}`
        : e.instancePath;
    const v = { pointer, keyword: e.keyword, message: describe(e) };
    const key = `${v.pointer}|${v.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}
