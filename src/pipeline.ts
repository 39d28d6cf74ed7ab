import { compile } from "./compile";
import type { Ir } from "./ir/types";
import { emitLibvirt } from "./emit/libvirt";
import { emitModules } from "./emit/modules";
import { emitMountRole } from "./emit/role/mount";
import { emitHostRole } from "./emit/role/host";
import { emitPlaybooks } from "./emit/playbook";
import { emitCollectionMeta } from "./emit/collection";
import { emitReadmeTables } from "./emit/docs";
import { checkStaleOutput, writeFiles, type Outputs } from "./write/write-files";
import type { Diagnostic } from "./errors/messages";

export { compile };

/** Every emitter, each a pure function of the IR; a path two emitters claim is a generator bug. */
export async function emitAll(ir: Ir, root: string): Promise<Outputs> {
  const parts: Outputs[] = [
    emitLibvirt(ir),
    emitMountRole(ir),
    emitHostRole(ir),
    emitPlaybooks(ir),
    emitCollectionMeta(ir),
    emitReadmeTables(ir),
    await emitModules(ir, root),
  ];
  const all: Outputs = new Map();
  for (const part of parts) {
    for (const [file, text] of part) {
      if (all.has(file) && all.get(file) !== text) throw new Error(`two emitters produce different ${file}`);
      all.set(file, text);
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
