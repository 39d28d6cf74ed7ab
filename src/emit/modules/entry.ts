import type { Ir, ModuleIr } from "../../ir/types";
import { slashHeader } from "../header";

/** The module's entry point: parse, validate and hand over to its hand-written logic in src/runtime. */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  return `${slashHeader(ir)}import { runModule } from "../../../src/runtime/ansible";
import { main } from "../../../src/runtime/modules/${m.name}";
import validate from "./validate";

runModule("${m.name}", validate, main);
`;
}
