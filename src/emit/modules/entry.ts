import type { Ir, ModuleIr } from "../../ir/types";
import { slashHeader } from "../header";
import { RUNTIME_ROOT, importSpecifier, moduleLogic, moduleSource } from "../layout";
import { argumentTypes } from "./argument-types";

/**
 * The module's entry point: parse, convert the arguments as Ansible would (types from the schema),
 * validate and hand over to its hand-written logic in src/runtime.
 */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  const self = moduleSource(m.name, "main.ts");
  const from = (file: string) => JSON.stringify(importSpecifier(self, file));
  return `${slashHeader(ir)}import { runModule } from ${from(`${RUNTIME_ROOT}/ansible.ts`)};
import type { ArgumentTypes } from ${from(`${RUNTIME_ROOT}/argument-conversion.ts`)};
import { main } from ${from(moduleLogic(m.name))};
import validate from ${from(moduleSource(m.name, "validate.js"))};

const ARGUMENT_TYPES: ArgumentTypes = ${JSON.stringify(argumentTypes(m.args), null, 2)};

runModule("${m.name}", validate, main, ARGUMENT_TYPES);
`;
}
