import standaloneCode from "ajv/dist/standalone";
import { createAjv } from "../../schema/ajv";
import type { Ir, ModuleIr } from "../../ir/types";
import { slashHeader } from "../header";

/**
 * An ajv standalone validator for one module's arguments, compiled from the same schema the CLI
 * validates with. useDefaults fills the schema defaults in, so module code never restates them.
 */
export function emitValidator(ir: Ir, m: ModuleIr): string {
  const ajv = createAjv(ir.schema, {
    code: { source: true, esm: false, lines: true },
    useDefaults: true,
    verbose: true,
  });
  const validate = ajv.getSchema(`${ir.schemaId}#/$defs/${m.defName}`);
  if (!validate) throw new Error(`no schema for ${m.defName}`);
  return `${slashHeader(ir)}/* eslint-disable */\n${standaloneCode(ajv, validate)}\n`;
}

export function emitValidatorTypes(ir: Ir): string {
  return `${slashHeader(ir)}import type { ValidateFunction } from "ajv";\ndeclare const validate: ValidateFunction;\nexport default validate;\n`;
}
