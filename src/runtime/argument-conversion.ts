/**
 * Argument conversion as Ansible does it for Python modules (ansible.module_utils.common.validation
 * check_type_* and parameters.py _validate_argument_types), before the schema validation: Ansible
 * ships a Node.js module's arguments untouched, so `-e flag=false` arrives as the string "false".
 * Driven by the argument types the generator derives from the schema (ArgumentTypes), never by
 * parameter names.
 */

export type AnsibleType = "str" | "bool" | "int" | "float" | "list" | "dict";

/** One option's type, as in an Ansible argument spec. */
export interface ArgumentType {
  type: AnsibleType;
  elements?: AnsibleType;
  /** Sub-options of a dict, or of the dicts of a list. */
  options?: ArgumentTypes;
  required?: boolean;
  hasDefault?: boolean;
}

export type ArgumentTypes = Record<string, ArgumentType>;

/** BOOLEANS_TRUE / BOOLEANS_FALSE of ansible.module_utils.parsing.convert_bool. */
const TRUE_STRINGS = ["y", "yes", "on", "1", "true", "t"];
const FALSE_STRINGS = ["n", "no", "off", "0", "false", "f"];
const VALID_BOOLEANS =
  "'y', 'yes', 'on', '1', 'true', 't', 1, 1.0, True, 'n', 'no', 'off', '0', 'false', 'f', 0, 0.0, False";

/** Python's name of a JSON value's type (native_type_name). */
function pyType(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return Array.isArray(v) ? "list" : "dict";
}

/** Python's repr of a JSON scalar (for messages). */
function pyRepr(v: unknown): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null || v === undefined) return "None";
  return typeof v === "number" ? String(v) : JSON.stringify(v);
}

class ConversionError extends Error {}

function toBool(v: unknown, shown: (s: string) => string): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number" && (v === 1 || v === 0)) return v === 1;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (TRUE_STRINGS.includes(s)) return true;
    if (FALSE_STRINGS.includes(s)) return false;
  }
  if (typeof v === "string" || typeof v === "number") {
    throw new ConversionError(
      `The value ${shown(typeof v === "string" ? `'${v}'` : String(v))} is not a valid boolean. Valid booleans include: ${VALID_BOOLEANS}`,
    );
  }
  throw new ConversionError(`<class '${pyType(v)}'> cannot be converted to a bool`);
}

/** Decimal(value) as Python parses it: optional sign, digits with single underscores, fraction, exponent. */
const DECIMAL = /^[+-]?(?=\.?\d)(\d+(_\d+)*)?(\.(\d+(_\d+)*)?)?([eE][+-]?\d+(_\d+)*)?$/;

function toInt(v: unknown, shown: (s: string) => string): unknown {
  if (typeof v === "boolean") return v; // a bool is an int in Python; the schema judges it
  const fail = () => new ConversionError(`"${shown(pyRepr(v))}" cannot be converted to an int`);
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && DECIMAL.test(v.trim())) n = Number(v.trim().replace(/_/g, ""));
  else throw fail();
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw fail();
  return n;
}

function toFloat(v: unknown): unknown {
  if (typeof v === "number" || typeof v === "boolean") return typeof v === "boolean" ? Number(v) : v;
  if (typeof v === "string") {
    const s = v.trim().replace(/_/g, "");
    if (DECIMAL.test(v.trim())) return Number(s);
    if (/^[+-]?(inf|infinity|nan)$/i.test(s))
      return Number(s.replace(/inf(inity)?/i, "Infinity").replace(/nan/i, "NaN"));
  }
  throw new ConversionError(`<class '${pyType(v)}'> cannot be converted to a float`);
}

function toStr(v: unknown): unknown {
  if (typeof v === "string") return v;
  if (v === null) return "";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  return v; // lists and dicts: Python would write their repr; the schema rejects them instead
}

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return v.split(",");
  if (typeof v === "number") return [String(v)];
  throw new ConversionError(`<class '${pyType(v)}'> cannot be converted to a list`);
}

function toDict(v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) return v;
  if (typeof v === "string" && v.trim().startsWith("{")) {
    try {
      return JSON.parse(v);
    } catch {
      throw new ConversionError("dictionary requested, could not parse JSON or key=value");
    }
  }
  throw new ConversionError(`<class '${pyType(v)}'> cannot be converted to a dict`);
}

function convertScalar(type: AnsibleType, v: unknown, shown: (s: string) => string): unknown {
  switch (type) {
    case "bool":
      return toBool(v, shown);
    case "int":
      return toInt(v, shown);
    case "float":
      return toFloat(v);
    case "str":
      return toStr(v);
    case "list":
      return toList(v);
    case "dict":
      return toDict(v);
  }
}

/**
 * Converts the arguments in place of a copy and returns it with one message per argument Ansible
 * would refuse ("/pointer: argument 'x' is of type str and we were unable to convert to int: ...").
 * With noLog the messages never repeat a value. Unknown keys are left for the schema to reject.
 */
export function convertArguments(
  args: Record<string, unknown>,
  types: ArgumentTypes,
  noLog: boolean,
): { args: Record<string, unknown>; errors: string[] } {
  const errors: string[] = [];
  const shown = (s: string) => (noLog ? "********" : s);
  const convertObject = (
    obj: Record<string, unknown>,
    spec: ArgumentTypes,
    pointer: string,
    context: string[],
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...obj };
    for (const [name, t] of Object.entries(spec)) {
      if (!Object.prototype.hasOwnProperty.call(obj, name)) continue;
      const value = obj[name];
      const at = `${pointer}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (value === null && !t.required && !t.hasDefault) {
        delete out[name]; // Ansible treats it as not given
        continue;
      }
      const where = context.length ? ` found in '${context.join(" -> ")}'.` : "";
      let converted: unknown;
      try {
        converted = convertScalar(t.type, value, shown);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        errors.push(
          `${at}: argument '${name}' is of type ${pyType(value)}${where} and we were unable to convert to ${t.type}: ${e.message}`,
        );
        continue;
      }
      if (Array.isArray(converted) && t.elements) {
        converted = converted.map((item, i) => {
          try {
            const c = convertScalar(t.elements!, item, shown);
            return t.options && c && typeof c === "object" && !Array.isArray(c)
              ? convertObject(c as Record<string, unknown>, t.options, `${at}/${i}`, [...context, name])
              : c;
          } catch (e) {
            if (!(e instanceof ConversionError)) throw e;
            errors.push(
              `${at}/${i}: Elements value for option '${name}'${context.length ? ` found in '${context.join(" -> ")}'` : ""} is of type ${pyType(item)} and we were unable to convert to ${t.elements}: ${e.message}`,
            );
            return item;
          }
        });
      } else if (t.options && converted && typeof converted === "object" && !Array.isArray(converted)) {
        converted = convertObject(converted as Record<string, unknown>, t.options, at, [...context, name]);
      }
      out[name] = converted;
    }
    return out;
  };
  return { args: convertObject(args, types, "", []), errors };
}
