import type { Ir, ModuleIr } from "../../ir/types";
import { slashHeader } from "../header";
import { argumentTypes } from "./argument-types";

/** Values the module uses for unset arguments without a default (x-fallback-from), from the schema. */
function fallbacks(m: ModuleIr): Record<string, unknown> {
  return Object.fromEntries(m.args.fields.filter((f) => f.fallback !== undefined).map((f) => [f.name, f.fallback]));
}

/**
 * The module's entry point: parse, convert the arguments as Ansible would (types from the schema),
 * validate (filling the schema's defaults) and hand over to its hand-written logic in src/runtime,
 * with the schema's fallbacks when it has any.
 */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  const fb = fallbacks(m);
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
