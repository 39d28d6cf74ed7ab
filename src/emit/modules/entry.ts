import type { Ir, ModuleIr } from "../../ir/types";
import { slashHeader } from "../header";
import { argumentTypes } from "./argument-types";

/**
 * The module's entry point: parse, convert the arguments as Ansible would (types from the schema),
 * validate and hand over to its hand-written logic in src/runtime.
 */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  return `${slashHeader(ir)}import { runModule } from "../../../src/runtime/ansible";
import type { ArgumentTypes } from "../../../src/runtime/argument-conversion";
import { main } from "../../../src/runtime/modules/${m.name}";
import validate from "./validate";

const ARGUMENT_TYPES: ArgumentTypes = ${JSON.stringify(argumentTypes(m.args), null, 2)};

runModule("${m.name}", validate, main, ARGUMENT_TYPES);
`;
}
