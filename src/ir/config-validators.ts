import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { ValidateFunction } from "ajv";
import standaloneCode from "ajv/dist/standalone";
import { ANNOTATION_KEYWORDS, createAjv } from "../schema/ajv";
import type { Ir } from "./types";

/** The validators of user configurations: a cluster file, one VM in it, and a role-variables file. */
export interface ConfigValidators {
  cluster: ValidateFunction;
  vm: ValidateFunction;
  vars: ValidateFunction;
}

const REFS: Record<keyof ConfigValidators, string> = {
  cluster: "#/$defs/cluster_config",
  vm: "#/$defs/cluster_vm",
  vars: "#",
};

// Bump when the ajv options below change. createAjv's own source is part of the key, so a change to
// the shared options or keywords invalidates the cache without anyone remembering to bump this.
const OPTIONS_REVISION = "verbose-1";

function cacheKey(ir: Ir): string {
  const ajvVersion = (require("ajv/package.json") as { version: string }).version;
  return crypto
    .createHash("sha256")
    .update(
      `${ajvVersion}\n${OPTIONS_REVISION}\n${createAjv.toString()}\n${ANNOTATION_KEYWORDS.join(",")}\n${JSON.stringify(ir.schema)}`,
    )
    .digest("hex")
    .slice(0, 20);
}

/**
 * Compiles the configuration validators from the schema. Compiling costs about as much as validating
 * a 1 000-VM file, so with a cache directory the compiled code is kept (ajv standalone, keyed by the
 * schema's content and ajv's version) and later runs load it instead. Throws when the schema does not
 * compile; a cache hit therefore also proves that this exact schema compiled.
 */
export function compileConfigValidators(ir: Ir, cacheDir?: string): ConfigValidators {
  const file = cacheDir ? path.join(cacheDir, `config-validators-${cacheKey(ir)}.cjs`) : undefined;
  if (file && fs.existsSync(file)) {
    try {
      return require(file) as ConfigValidators;
    } catch {
      // a damaged cache entry is rebuilt below
    }
  }
  const ajv = createAjv(ir.schema, { verbose: true, ...(file ? { code: { source: true, esm: false } } : {}) });
  const refs = Object.fromEntries(Object.entries(REFS).map(([k, ref]) => [k, `${ir.schemaId}${ref}`])) as Record<
    keyof ConfigValidators,
    string
  >;
  const out = {} as ConfigValidators;
  for (const [k, ref] of Object.entries(refs) as [keyof ConfigValidators, string][]) {
    const fn = ajv.getSchema(ref);
    if (!fn) throw new Error(`the schema has no ${ref}`);
    out[k] = fn;
  }
  if (file) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(
        tmp,
        `/* compiled from ${ir.schemaPath} by vfsgen; a cache, safe to delete */\n${standaloneCode(ajv, refs)}\n`,
      );
      fs.renameSync(tmp, file);
    } catch {
      // read-only installation: run without the cache
    }
  }
  return out;
}

const memo = new WeakMap<Ir, ConfigValidators>();

/**
 * The validators for this IR, compiled once per process; the CLI (bin/vfsgen.js sets VFSGEN_ROOT)
 * keeps them in .cache/validators across runs.
 */
export function configValidators(ir: Ir): ConfigValidators {
  let v = memo.get(ir);
  if (!v) {
    const root = process.env.VFSGEN_ROOT;
    v = compileConfigValidators(ir, root ? path.join(root, ".cache", "validators") : undefined);
    memo.set(ir, v);
  }
  return v;
}
