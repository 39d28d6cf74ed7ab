/**
 * The Ansible side of a Node.js module: reads the arguments file (argv[2]), splits off Ansible's
 * internal _ansible_* keys, validates the rest, runs the module's main and prints exactly one JSON
 * object on stdout, whatever happens.
 */
import * as fs from "fs";
import type { ErrorObject } from "ajv";
import { formatAjvErrors } from "../errors/ajv-format";
import { convertArguments, type ArgumentTypes } from "./argument-conversion";

/** What a compiled ajv validator (standalone or not) looks like to us. */
export interface ValidateFunctionLike {
  (data: unknown): boolean;
  errors?: readonly ErrorObject[] | null;
}

export interface ModuleContext {
  moduleName: string;
  checkMode: boolean;
  diff: boolean;
  noLog: boolean;
  verbosity: number;
  /** Adds a warning to the result (Ansible shows it in yellow). */
  warn(msg: string): void;
  readonly warnings: string[];
}

export interface DiffEntry {
  before: string;
  after: string;
  before_header?: string;
  after_header?: string;
}

export interface ModuleResult {
  changed?: boolean;
  failed?: boolean;
  msg?: string;
  diff?: DiffEntry | DiffEntry[];
  warnings?: string[];
  ansible_facts?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Thrown by module code for a failure the operator can act on. `result` is merged into the failure
 * result (for instance the per-share results gathered so far).
 */
export class ModuleFailure extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ModuleFailure";
  }
}

const MASK = "********";

/**
 * "pointer: message" for every violation; the root pointer is shown as "/". With noLog the messages
 * never repeat a value.
 */
function validationMessage(errors: readonly ErrorObject[] | null | undefined, noLog: boolean): string {
  const lines = formatAjvErrors(errors, { withValues: !noLog }).map((v) => `${v.pointer || "/"}: ${v.message}`);
  if (lines.length === 0) lines.push("/: arguments rejected by the schema");
  return `invalid arguments: ${[...new Set(lines)].join("; ")}`;
}

/** Every string value of the arguments (of 3 characters or more), for masking. */
function argumentStrings(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === "string") {
    if (value.length >= 3) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) argumentStrings(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) argumentStrings(v, out);
  }
  return out;
}

function maskText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(MASK);
  return out;
}

/**
 * The result with every argument string masked wherever it appears in a value, at any depth
 * (per-share msg, tag, mount_point, actions' why, diff, warnings, ...). Keys are the module's own
 * vocabulary (changed, mounts, warnings, ...) and stay readable: masking them would break the result.
 */
function maskResult<T>(value: T, secrets: string[]): T {
  if (typeof value === "string") return maskText(value, secrets) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => maskResult(v, secrets)) as unknown as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskResult(v, secrets)])) as T;
  }
  return value;
}

function readArgs(file: string | undefined): Record<string, unknown> {
  if (!file)
    throw new ModuleFailure("no arguments file given (expected the path of a JSON file as the first argument)");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ModuleFailure(`cannot read the arguments file: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ModuleFailure(`the arguments file is not JSON: ${(e as Error).message}`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data))
    throw new ModuleFailure("the arguments file must hold a JSON object");
  const obj = data as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (
    keys.length === 1 &&
    keys[0] === "ANSIBLE_MODULE_ARGS" &&
    obj.ANSIBLE_MODULE_ARGS &&
    typeof obj.ANSIBLE_MODULE_ARGS === "object"
  ) {
    return obj.ANSIBLE_MODULE_ARGS as Record<string, unknown>;
  }
  return obj;
}

function asBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return ["1", "true", "yes", "on", "y", "t"].includes(v.toLowerCase());
  return false;
}

/** Splits the arguments into the module's own and a context built from the _ansible_* keys. */
function splitArgs(
  all: Record<string, unknown>,
  moduleName: string,
): { args: Record<string, unknown>; ctx: ModuleContext } {
  const args: Record<string, unknown> = {};
  const internal: Record<string, unknown> = {};
  // defineProperty, not assignment: a "__proto__" argument must stay an own key (which the schema
  // then refuses as unknown) instead of replacing the prototype of the arguments object.
  for (const [k, v] of Object.entries(all)) {
    Object.defineProperty(k.startsWith("_ansible_") ? internal : args, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const warnings: string[] = [];
  const verbosity = Number(internal._ansible_verbosity ?? 0);
  const ctx: ModuleContext = {
    moduleName,
    checkMode: asBool(internal._ansible_check_mode),
    diff: asBool(internal._ansible_diff),
    noLog: asBool(internal._ansible_no_log),
    verbosity: Number.isFinite(verbosity) ? verbosity : 0,
    warn: (msg: string) => {
      if (!warnings.includes(msg)) warnings.push(msg);
    },
    warnings,
  };
  return { args, ctx };
}

function emit(result: ModuleResult): void {
  let text: string;
  try {
    text = JSON.stringify(result);
  } catch (e) {
    text = JSON.stringify({
      failed: true,
      changed: false,
      msg: `module result not serialisable: ${(e as Error).message}`,
    });
  }
  process.stdout.write(text + "\n");
  process.exitCode = result.failed ? 1 : 0;
}

/**
 * Runs a module and prints its result. Never throws and never prints anything but the one result
 * object (a stack trace only with verbosity >= 3, and never with no_log). With argumentTypes the
 * arguments are first converted as Ansible converts them for Python modules ("no" -> false, "8" -> 8).
 */
export function runModule<A>(
  name: string,
  validate: ValidateFunctionLike,
  main: (args: A, ctx: ModuleContext) => ModuleResult | Promise<ModuleResult>,
  argumentTypes?: ArgumentTypes,
): void {
  let ctx: ModuleContext = splitArgs({}, name).ctx;
  let secrets: string[] = [];

  const finish = (result: ModuleResult) => {
    const out: ModuleResult = { changed: false, ...result };
    if (ctx.warnings.length > 0) out.warnings = [...(result.warnings ?? []), ...ctx.warnings];
    emit(ctx.noLog && secrets.length > 0 ? maskResult(out, secrets) : out);
  };

  const fail = (e: unknown) => {
    const failure = e instanceof ModuleFailure ? e : undefined;
    const message = e instanceof Error ? e.message : String(e);
    const result: ModuleResult = {
      ...(failure?.result ?? {}),
      failed: true,
      msg: failure ? message : `${name}: unexpected error: ${message}`,
    };
    if (result.changed === undefined) result.changed = false;
    if (!failure && ctx.verbosity >= 3 && !ctx.noLog && e instanceof Error && e.stack) result.exception = e.stack;
    finish(result);
  };

  try {
    const all = readArgs(process.argv[2]);
    const split = splitArgs(all, name);
    ctx = split.ctx;
    let args = split.args;
    const conversion = argumentTypes ? convertArguments(args, argumentTypes, ctx.noLog) : undefined;
    if (conversion) args = conversion.args;
    if (ctx.noLog) secrets = [...argumentStrings([split.args, args], new Set())].sort((a, b) => b.length - a.length);
    if (conversion && conversion.errors.length > 0) {
      finish({ failed: true, changed: false, msg: `invalid arguments: ${conversion.errors.join("; ")}` });
      return;
    }
    if (!validate(args)) {
      finish({ failed: true, changed: false, msg: validationMessage(validate.errors, ctx.noLog) });
      return;
    }
    Promise.resolve()
      .then(() => main(args as unknown as A, ctx))
      .then((result) => finish(result ?? {}), fail);
  } catch (e) {
    fail(e);
  }
}
