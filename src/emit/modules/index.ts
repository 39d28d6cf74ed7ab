import type { Ir } from "../../ir/types";
import type { Outputs } from "../../write/write-files";
import { bundleModule } from "./bundle";
import { emitModuleDoc } from "./docs";
import { emitEntry } from "./entry";
import { emitArgTypes } from "./types";
import { emitValidator, emitValidatorTypes } from "./validators";

export const MODULES_SOURCE_DIR = "generated/modules";

export function collectionModulesDir(ir: Ir): string {
  return `collection/ansible_collections/${ir.collection.namespace}/${ir.collection.name}/plugins/modules`;
}

/** Module sources (types, validators, entries) and, bundled from them, the shipped modules and their docs. */
export async function emitModules(ir: Ir, root: string): Promise<Outputs> {
  const out: Outputs = new Map();
  out.set(`${MODULES_SOURCE_DIR}/types.ts`, emitArgTypes(ir));
  for (const m of ir.modules) {
    out.set(`${MODULES_SOURCE_DIR}/${m.name}/validate.js`, emitValidator(ir, m));
    out.set(`${MODULES_SOURCE_DIR}/${m.name}/validate.d.ts`, emitValidatorTypes(ir));
    out.set(`${MODULES_SOURCE_DIR}/${m.name}/main.ts`, emitEntry(ir, m));
  }
  const sources = new Map(out);
  for (const m of ir.modules) {
    const bundled = await bundleModule(ir, root, `${MODULES_SOURCE_DIR}/${m.name}/main.ts`, sources);
    out.set(`${collectionModulesDir(ir)}/${m.name}.cjs`, bundled);
    out.set(`${collectionModulesDir(ir)}/${m.name}.yml`, emitModuleDoc(ir, m));
    if (m.side === "guest") out.set(`generated/ansible/roles/virtio-fs-mount/library/${m.name}.cjs`, bundled);
  }
  return out;
}
