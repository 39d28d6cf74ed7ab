import type { FieldIr, FieldType, ObjectIr } from "../ir/types";

const ANSIBLE_TYPES: Record<FieldType, string> = {
  string: "str",
  boolean: "bool",
  integer: "int",
  number: "float",
  array: "list",
  object: "dict",
};

export function ansibleType(t: FieldType): string {
  return ANSIBLE_TYPES[t];
}

export interface OptionOverrides {
  /** Fields that are required in this context although the schema leaves them optional. */
  require?: string[];
  /**
   * The key an object's fields nest under: argument specs (role meta/argument_specs.yml) say
   * `options`, module DOCUMENTATION says `suboptions` (ansible-test validate-modules refuses `options`).
   */
  nestedKey?: "options" | "suboptions";
}

/** An Ansible option spec (argument_specs / module DOCUMENTATION) from one schema field. */
export function optionSpec(f: FieldIr, overrides: OptionOverrides = {}, withDefault = true): Record<string, unknown> {
  const spec: Record<string, unknown> = { description: [f.description], type: ansibleType(f.type) };
  if (f.required || overrides.require?.includes(f.name)) spec.required = true;
  if (f.type === "array" && f.itemType) spec.elements = ansibleType(f.itemType);
  if (f.enum) spec.choices = f.enum;
  if (withDefault && f.default !== undefined) spec.default = f.default;
  if (f.itemObject) spec[overrides.nestedKey ?? "options"] = optionSpecs(f.itemObject, overrides);
  return spec;
}

export function optionSpecs(
  o: ObjectIr | FieldIr[],
  overrides: OptionOverrides = {},
  withDefault = true,
): Record<string, unknown> {
  const fields = Array.isArray(o) ? o : o.fields;
  return Object.fromEntries(fields.map((f) => [f.name, optionSpec(f, overrides, withDefault)]));
}
