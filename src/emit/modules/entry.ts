import type { Ir, ModuleIr } from "../../ir/types";
import { moduleFallbacks } from "../../ir/lookup";
import { slashHeader } from "../header";
import { argumentTypes } from "./argument-types";

/**
 * The module's entry point: parse, convert the arguments as Ansible would (types from the schema),
 * validate (filling the schema's defaults) and hand over to its hand-written logic in src/runtime,
 * with the schema's fallbacks when it has any.
 */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  const fb = moduleFallbacks(m);
  const hasFallbacks = Object.keys(fb).length > 0;
  return `${slashHeader(ir)}import { runModule } from "../../../src/runtime/ansible";
import type { ArgumentTypes } from "../../../src/runtime/argument-conversion";
import { main } from "../../../src/runtime/modules/${m.name}";
import validate from "./validate";

const ARGUMENT_TYPES: ArgumentTypes = ${JSON.stringify(argumentTypes(m.args), null, 2)};
${hasFallbacks ? `
const FALLBACKS: Parameters<typeof main>[2] = ${JSON.stringify(fb, null, 2)};
` : ""}
runModule${hasFallbacks ? `<Parameters<typeof main>[0]>` : ""}("${m.name}", validate, ${hasFallbacks ? "(args, ctx) => main(args, ctx, FALLBACKS)" : "main"}, ARGUMENT_TYPES);
`;
}
