import type { ErrorObject } from "ajv";
import { message, messageWithoutValue, type MessageCode } from "./messages";

/** One schema violation in the words an operator reads: where (JSON pointer) and what was expected. */
export interface Violation {
  pointer: string;
  keyword: string;
  /** The catalogue entry the violation is reported under, and the parameters of its message. */
  code: MessageCode;
  params: Record<string, string>;
  message: string;
  /** The ajv error it comes from. */
  error: ErrorObject;
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
function numericRange(s: NumericSchema | undefined): string | undefined {
  if (!s || (s.type !== "integer" && s.type !== "number")) return undefined;
  const what = s.type === "integer" ? "an integer" : "a number";
  const low =
    s.minimum !== undefined
      ? { n: s.minimum, open: false }
      : s.exclusiveMinimum !== undefined
        ? { n: s.exclusiveMinimum, open: true }
        : undefined;
  const high =
    s.maximum !== undefined
      ? { n: s.maximum, open: false }
      : s.exclusiveMaximum !== undefined
        ? { n: s.exclusiveMaximum, open: true }
        : undefined;
  if (low && high && !low.open && !high.open) return `${what} from ${low.n} to ${high.n}`;
  const parts = [
    low ? (low.open ? `greater than ${low.n}` : `of at least ${low.n}`) : undefined,
    high ? (high.open ? `less than ${high.n}` : `at most ${high.n}`) : undefined,
  ].filter(Boolean);
  return parts.length ? `${what} ${parts.join(" and ")}` : undefined;
}

/** A value as the operator wrote it: YAML's .inf and .nan for the numbers JSON has no words for. */
function showValue(v: unknown): string {
  if (typeof v === "number")
    return Number.isNaN(v) ? ".nan" : v === Infinity ? ".inf" : v === -Infinity ? "-.inf" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return typeName(v);
}

type Described = { code: MessageCode; params: Record<string, string> };

const expectation = (code: MessageCode, expected: string, got: string): Described => ({
  code,
  params: { expected, got },
});

/** Which catalogue entry (VFS010-VFS014, VFS018) a violation is reported under, and its parameters. */
function describe(e: ErrorObject): Described {
  const p = e.params as Record<string, unknown>;
  const parent = e.parentSchema as NumericSchema | undefined;
  const range = numericRange(parent);
  const code: MessageCode = e.keyword === "type" ? "VFS011" : e.keyword === "enum" ? "VFS013" : "VFS014";
  const oneOfList = (values: unknown[]) => `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (parent?.enum && e.keyword === "type") return expectation(code, oneOfList(parent.enum), showValue(e.data));
  if (range && ["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].includes(e.keyword))
    return expectation(code, range, showValue(e.data));
  switch (e.keyword) {
    case "required":
      return { code: "VFS012", params: { name: JSON.stringify(p.missingProperty) } };
    case "additionalProperties":
      return { code: "VFS010", params: { name: JSON.stringify(p.additionalProperty) } };
    case "type":
      return expectation(code, String(p.type), typeName(e.data));
    case "enum":
      return expectation(code, oneOfList(p.allowedValues as unknown[]), showValue(e.data));
    case "const":
      return expectation(code, JSON.stringify(p.allowedValue), showValue(e.data));
    case "pattern":
      return expectation(code, expected(e) ?? `a value matching ${p.pattern}`, JSON.stringify(e.data));
    case "minLength":
      return expectation(
        code,
        `at least ${p.limit} character${p.limit === 1 ? "" : "s"}`,
        String(String(e.data).length),
      );
    case "maxLength":
      return expectation(code, `at most ${p.limit} characters`, String(String(e.data).length));
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return expectation(code, `a number ${p.comparison} ${p.limit}`, showValue(e.data));
    case "oneOf":
      return oneOf(e);
    default:
      return { code: "VFS018", params: { keyword: e.keyword, rule: e.message ?? "" } };
  }
}

/** The property names a oneOf chooses between, when every alternative only requires properties. */
function requiredAlternatives(e: ErrorObject): string[] | undefined {
  const alternatives = (e.parentSchema as { oneOf?: unknown[] } | undefined)?.oneOf;
  if (!Array.isArray(alternatives)) return undefined;
  const names: string[] = [];
  for (const a of alternatives) {
    const keys = a && typeof a === "object" ? Object.keys(a) : [];
    const required = (a as { required?: unknown }).required;
    if (keys.length !== 1 || !Array.isArray(required)) return undefined;
    names.push(...required.map(String));
  }
  return names;
}

function oneOf(e: ErrorObject): Described {
  const names = requiredAlternatives(e);
  const data = e.data && typeof e.data === "object" ? (e.data as Record<string, unknown>) : {};
  if (names) {
    const present = names.filter((n) => n in data);
    return expectation(
      "VFS014",
      `exactly one of the properties ${names.map((n) => JSON.stringify(n)).join(", ")}`,
      present.length ? present.map((n) => JSON.stringify(n)).join(" and ") : "none",
    );
  }
  const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
  return expectation(
    "VFS014",
    "exactly one of the alternatives (see the documentation of this object)",
    passing ? `a value matching alternatives ${passing.map((i) => i + 1).join(" and ")}` : "none",
  );
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
  if (typeof v === "number")
    return Number.isNaN(v)
      ? ".nan"
      : !Number.isFinite(v)
        ? v > 0
          ? ".inf"
          : "-.inf"
        : Number.isInteger(v)
          ? "integer"
          : "number";
  return typeof v;
}

/** Whether an error comes from an alternative of one of these oneOf wrappers (same place, deeper schema path). */
function underWrapper(e: ErrorObject, wrappers: ErrorObject[]): boolean {
  return wrappers.some(
    (w) =>
      e !== w &&
      e.schemaPath.startsWith(`${w.schemaPath}/`) &&
      (e.instancePath === w.instancePath || e.instancePath.startsWith(`${w.instancePath}/`)),
  );
}

export interface FormatOptions {
  /**
   * false: messages never repeat a value from the document (Ansible's no_log): the ", got ..." clause
   * is left out. Property names stay, they are the schema's vocabulary or the operator's keys.
   */
  withValues?: boolean;
}

/**
 * Turns ajv errors into violations: call it ONCE with all the errors of one validation, since a
 * cause hides its consequences only among the errors it is given. Drops the noise ajv reports
 * alongside the real cause: the "if" wrappers whose "then" branches are reported, the anyOf
 * wrappers and oneOf wrappers whose alternatives are reported (a oneOf of required properties is
 * summed up in one message instead of one "missing" per alternative), and the checks a wrong type
 * or length makes moot.
 */
export function formatAjvErrors(
  errors: readonly ErrorObject[] | null | undefined,
  options: FormatOptions = {},
): Violation[] {
  if (!errors) return [];
  // The first cause at a pointer hides its consequences: a wrong type makes enum and pattern moot,
  // a wrong length makes the pattern moot.
  const hidden = new Map<string, Set<string>>();
  for (const e of errors) {
    const moot =
      e.keyword === "type"
        ? ["enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]
        : e.keyword === "minLength" || e.keyword === "maxLength"
          ? ["pattern"]
          : [];
    if (!hidden.has(e.instancePath)) hidden.set(e.instancePath, new Set());
    moot.forEach((k) => hidden.get(e.instancePath)!.add(k));
  }
  const summing = errors.filter((e) => e.keyword === "oneOf" && requiredAlternatives(e));
  const kept = errors.filter((e) => {
    if (hidden.get(e.instancePath)?.has(e.keyword) || underWrapper(e, summing)) return false;
    if (e.keyword === "if" || e.keyword === "anyOf") return false;
    // A oneOf that no alternative matched: its alternatives' own errors say why.
    if (e.keyword === "oneOf" && !summing.includes(e) && !(e.params as { passingSchemas?: unknown }).passingSchemas)
      return false;
    return true;
  });
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    // An unknown property is reported at the property itself, not at its parent object.
    const pointer =
      e.keyword === "additionalProperties"
        ? `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)
            .replace(/~/g, "~0")
            .replace(/\//g, "~1")}`
        : e.instancePath;
    const { code, params } = describe(e);
    const v: Violation = {
      pointer,
      keyword: e.keyword,
      code,
      params,
      message: options.withValues === false ? messageWithoutValue(code, params) : message(code, params),
      error: e,
    };
    const key = `${v.pointer}|${v.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}
