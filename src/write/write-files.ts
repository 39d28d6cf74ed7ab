import * as fs from "fs";
import * as path from "path";
import { VfsError, diagnostic, type Diagnostic } from "../errors/messages";
import { REGION_SEPARATOR, type Outputs } from "../emit/outputs";
import { MANAGED_ROOTS, managedRootOf } from "../emit/layout";

export interface WriteResult {
  written: number;
}

function listFiles(dir: string, prefix = ""): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    )
    .sort();
}

function markers(region: string): [string, string] {
  return [`<!-- BEGIN GENERATED: ${region} -->`, `<!-- END GENERATED: ${region} -->`];
}

function splice(file: string, current: string, region: string, body: string): string {
  const [begin, end] = markers(region);
  const a = current.indexOf(begin);
  const b = current.indexOf(end);
  if (a < 0 || b < a)
    throw new VfsError([
      { ...diagnostic("VFS050", "", { detail: `${file} has no "${begin}" ... "${end}" markers` }), file },
    ]);
  return `${current.slice(0, a + begin.length)}\n${body}${current.slice(b)}`;
}

function firstDifference(expected: string, actual: string): string {
  const e = expected.split("\n");
  const a = actual.split("\n");
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i])
      return `line ${i + 1}: expected ${JSON.stringify(e[i] ?? "<end of file>")}, found ${JSON.stringify(a[i] ?? "<end of file>")}`;
  }
  return "same text";
}

/** The complete desired content of every file the generator touches, regions resolved. */
function resolve(root: string, outputs: Outputs): Map<string, string> {
  const files = new Map<string, string>();
  for (const [key, text] of [...outputs].sort(([a], [b]) => a.localeCompare(b))) {
    const [file, region] = key.split(REGION_SEPARATOR);
    if (!region) {
      files.set(file, text);
      continue;
    }
    const current = files.get(file) ?? fs.readFileSync(path.join(root, file), "utf8");
    files.set(file, splice(file, current, region, text));
  }
  return files;
}

/** Compares what would be written with the disk: missing, different and stale files. */
export function checkStaleOutput(root: string, outputs: Outputs): Diagnostic[] {
  const desired = resolve(root, outputs);
  const stale: Diagnostic[] = [];
  for (const [file, text] of desired) {
    const full = path.join(root, file);
    if (!fs.existsSync(full))
      stale.push({ ...diagnostic("VFS050", "", { detail: `${file} is missing (run npm run generate)` }), file });
    else {
      const actual = fs.readFileSync(full, "utf8");
      if (actual !== text)
        stale.push({
          ...diagnostic("VFS050", "", {
            detail: `${file} differs from the schema's output at ${firstDifference(text, actual)}`,
          }),
          file,
        });
    }
  }
  for (const dir of MANAGED_ROOTS) {
    for (const rel of listFiles(path.join(root, dir))) {
      const file = `${dir}/${rel}`;
      if (!desired.has(file))
        stale.push({
          ...diagnostic("VFS050", "", { detail: `${file} is not produced by the generator any more` }),
          file,
        });
    }
  }
  return stale;
}

/**
 * Phase 5, the only phase that touches disk. Each managed root is built complete in a temporary
 * directory and swapped in with renames, so a failure never leaves a half-written tree.
 */
export function writeFiles(root: string, outputs: Outputs): WriteResult {
  const desired = resolve(root, outputs);
  const tmp = fs.mkdtempSync(path.join(root, ".vfsgen-tmp-"));
  try {
    for (const [file, text] of desired) {
      const target = path.join(tmp, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
    }
    for (const dir of MANAGED_ROOTS) {
      const fresh = path.join(tmp, dir);
      if (!fs.existsSync(fresh)) continue;
      const live = path.join(root, dir);
      const old = path.join(tmp, `${dir}.old`);
      if (fs.existsSync(live)) fs.renameSync(live, old);
      fs.renameSync(fresh, live);
    }
    for (const file of desired.keys()) {
      if (managedRootOf(file)) continue;
      fs.renameSync(path.join(tmp, file), path.join(root, file));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { written: desired.size };
}
