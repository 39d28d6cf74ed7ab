import * as path from "path";
import { build, type Plugin } from "esbuild";
import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { headerLine } from "../header";

/** Strings that make Ansible treat a module as Python or PowerShell instead of shipping it as is. */
const FORBIDDEN_MARKERS = [
  "from ansible.module_utils",
  "#<<INCLUDE_ANSIBLE_MODULE_COMMON>>",
  "<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>",
  "#Requires -Module",
];

/** Serves the emitter's in-memory files to esbuild, so bundling never reads stale generated sources from disk. */
function inMemory(root: string, files: Outputs): Plugin {
  const byAbs = new Map([...files].map(([rel, text]) => [path.join(root, rel), text]));
  const candidates = (p: string) => [p, `${p}.ts`, `${p}.js`];
  return {
    name: "vfsgen-in-memory",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        const relative = args.path.startsWith(".") || path.isAbsolute(args.path);
        const base = relative ? path.resolve(args.resolveDir, args.path) : args.path;
        const hit = relative ? candidates(base).find((c) => byAbs.has(c)) : undefined;
        if (hit) return { path: hit };
        // The generated sources may not exist on disk yet: resolve what they import from the root.
        if (!byAbs.has(args.importer)) return undefined;
        const r = await b.resolve(base, { resolveDir: root, kind: args.kind });
        return r.errors.length ? { errors: r.errors } : { path: r.path, external: r.external };
      });
      b.onLoad({ filter: /.*/ }, (args) =>
        byAbs.has(args.path)
          ? {
              contents: byAbs.get(args.path),
              loader: args.path.endsWith(".ts") ? "ts" : "js",
              resolveDir: path.dirname(args.path),
            }
          : undefined,
      );
    },
  };
}

/**
 * One dependency-free CommonJS file for Node >= 18, the WANT_JSON protocol marked in its header.
 * ASCII only (non-ASCII characters in strings and regular expressions are written as escapes), so
 * the module survives any locale or encoding on the way to a guest and reads the same in any viewer.
 */
export async function bundleModule(ir: Ir, root: string, entry: string, files: Outputs): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    write: false,
    charset: "ascii",
    legalComments: "none",
    preserveSymlinks: true,
    logLevel: "silent",
    // esbuild does not escape the banner: its dash is spelled in ASCII here.
    banner: { js: `#!/usr/bin/node\n// WANT_JSON\n// ${headerLine(ir).replace(/\u2014/g, "-")}` },
    plugins: [inMemory(root, files)],
  });
  // charset "ascii" escapes the code, but esbuild copies dependencies' doc comments as written
  // (xmldom's say "§" and "—"): in a comment an escape is just text, so those are escaped here.
  const text = result.outputFiles[0].text.replace(
    /[\u{80}-\u{10ffff}]/gu,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
  for (const marker of FORBIDDEN_MARKERS) {
    if (text.includes(marker))
      throw new Error(`bundle of ${entry} contains "${marker}", which would make Ansible mistreat the module`);
  }
  return text;
}
