import Ajv2020 from "ajv/dist/2020";
import type { Options } from "ajv";
import type { JsonSchema } from "./load";

/** Annotation keywords of our schema: they carry Ansible metadata, never validate. */
export const ANNOTATION_KEYWORDS = [
  "x-roles",
  "x-ansible-module",
  "x-expected",
  "x-default-from",
  "x-fallback-from",
  "x-fallback",
  "x-platform-values",
  "x-inventory-group",
];

export function createAjv(schema: JsonSchema, options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, ...options });
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword });
  ajv.addSchema(schema);
  return ajv;
}
