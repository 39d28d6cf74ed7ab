import type { Ir, ModuleIr } from "../../ir/types";
import { moduleFallbacks } from "../../ir/lookup";
import { slashHeader } from "../header";
import { RUNTIME_ROOT, importSpecifier, moduleLogic, moduleSource } from "../layout";
import { argumentTypes } from "./argument-types";

/**
 * The module's entry point: parse, convert the arguments as Ansible would (types from the schema),
 * validate (filling the schema's defaults) and hand over to its hand-written logic in src/runtime,
 * with the schema's fallbacks when it has any.
 */
export function emitEntry(ir: Ir, m: ModuleIr): string {
  const fb = moduleFallbacks(m);
  const hasFallbacks = Object.keys(fb).length > 0;
  const self = moduleSource(m.name, "main.ts");
  const from = (file: string) => JSON.stringify(importSpecifier(self, file));
  return `${slashHeader(ir)}import { runModule } from ${from(`${RUNTIME_ROOT}/ansible.ts`)};
import type { ArgumentTypes } from ${from(`${RUNTIME_ROOT}/argument-conversion.ts`)};
import { main } from ${from(moduleLogic(m.name))};
import validate from ${from(moduleSource(m.name, "validate.js"))};

const ARGUMENT_TYPES: ArgumentTypes = ${JSON.stringify(argumentTypes(m.args), null, 2)};
${
  hasFallbacks
    ? `
const FALLBACKS: Parameters<typeof main>[2] = ${JSON.stringify(fb, null, 2)};
`
    : ""
}
runModule${hasFallbacks ? `<Parameters<typeof main>[0]>` : ""}("${m.name}", validate, ${hasFallbacks ? "(args, ctx) => main(args, ctx, FALLBACKS)" : "main"}, ARGUMENT_TYPES);
`;
}
