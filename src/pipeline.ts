import { compile } from "./compile";
import type { Ir } from "./ir/types";
import { EMITTERS } from "./emit/registry";
import type { Emitter, Outputs } from "./emit/outputs";
import { checkStaleOutput, writeFiles } from "./write/write-files";
import type { Diagnostic } from "./errors/messages";

export { compile };

/** Runs every registered emitter; a path two emitters claim with different texts is a generator bug. */
export async function emitAll(ir: Ir, root: string, emitters: readonly Emitter[] = EMITTERS): Promise<Outputs> {
  const all: Outputs = new Map();
  const owner = new Map<string, string>();
  for (const emitter of emitters) {
    for (const [file, text] of await emitter.emit(ir, { root })) {
      if (all.has(file) && all.get(file) !== text)
        throw new Error(`emitters "${owner.get(file)}" and "${emitter.name}" produce different ${file}`);
      all.set(file, text);
      owner.set(file, emitter.name);
    }
  }
  return all;
}

export interface GenerateResult {
  files: number;
  stale: Diagnostic[];
}

export async function generate(root: string, check: boolean): Promise<GenerateResult> {
  const ir = compile(root);
  const outputs = await emitAll(ir, root);
  if (check) return { files: outputs.size, stale: checkStaleOutput(root, outputs) };
  const { written } = writeFiles(root, outputs);
  return { files: written, stale: [] };
}
