import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { MODULE_TYPES, collectionModule, collectionModuleDoc, moduleSource, seedModule } from "../layout";
import { bundleModule } from "./bundle";
import { emitModuleDoc } from "./docs";
import { emitEntry } from "./entry";
import { emitArgTypes } from "./types";
import { emitValidator, emitValidatorTypes } from "./validators";

/** Module sources (types, validators, entries) and, bundled from them, the shipped modules and their docs. */
export async function emitModules(ir: Ir, root: string): Promise<Outputs> {
  const out: Outputs = new Map();
  out.set(MODULE_TYPES, emitArgTypes(ir));
  for (const m of ir.modules) {
    out.set(moduleSource(m.name, "validate.js"), emitValidator(ir, m));
    out.set(moduleSource(m.name, "validate.d.ts"), emitValidatorTypes(ir));
    out.set(moduleSource(m.name, "main.ts"), emitEntry(ir, m));
  }
  const sources = new Map(out);
  for (const m of ir.modules) {
    const bundled = await bundleModule(ir, root, moduleSource(m.name, "main.ts"), sources);
    out.set(collectionModule(ir, m.name), bundled);
    out.set(collectionModuleDoc(ir, m.name), emitModuleDoc(ir, m));
    if (m.side === "guest") out.set(seedModule(m.name), bundled);
  }
  return out;
}
