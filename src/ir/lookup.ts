import { VfsError, diagnostic } from "../errors/messages";
import type { FieldIr, Ir, ModuleIr, ObjectIr } from "./types";

/**
 * Code that writes a schema field by name (the domain template, `vfsgen render`, the CLI) reads it
 * here: a field renamed or removed in the schema then stops generation with a message naming it,
 * instead of leaving an artifact that silently writes a name the schema no longer has.
 */
export function schemaField(ir: Ir, where: ObjectIr | "role variables", name: string): FieldIr {
  const fields = where === "role variables" ? ir.roleVariables : where.fields;
  const f = fields.find((x) => x.name === name);
  if (f) return f;
  const pointer = where === "role variables" ? "/properties" : `/$defs/${where.name}/properties`;
  throw new VfsError([
    {
      ...diagnostic("VFS040", pointer, {
        detail: `the generator needs property "${name}", which the schema does not define`,
      }),
      file: ir.schemaPath,
    },
  ]);
}

/** The schema default of a field the generator relies on having one. */
export function schemaDefault(ir: Ir, where: ObjectIr | "role variables", name: string): unknown {
  const f = schemaField(ir, where, name);
  if (f.default !== undefined) return f.default;
  throw new VfsError([
    {
      ...diagnostic("VFS040", f.schemaPointer, { detail: `the generator needs a default for "${name}"` }),
      file: ir.schemaPath,
    },
  ]);
}

/** Values a module uses for unset arguments without a default (x-fallback-from), by argument name. */
export function moduleFallbacks(m: ModuleIr): Record<string, unknown> {
  return Object.fromEntries(m.args.fields.filter((f) => f.fallback !== undefined).map((f) => [f.name, f.fallback]));
}

/**
 * The inventory group of the hypervisors (the cluster VM field hypervisor's x-inventory-group):
 * `vfsgen inventory` writes it, the cluster playbook applies the host role to it.
 */
export function hypervisorsGroup(ir: Ir): string {
  const f = schemaField(ir, ir.clusterVm, "hypervisor");
  let node: unknown = ir.schema;
  for (const seg of f.schemaPointer.split("/").slice(1)) node = (node as Record<string, unknown> | undefined)?.[seg];
  const group = (node as Record<string, unknown> | undefined)?.["x-inventory-group"];
  if (typeof group === "string" && group) return group;
  throw new VfsError([
    {
      ...diagnostic("VFS040", f.schemaPointer, { detail: 'the generator needs "x-inventory-group" on "hypervisor"' }),
      file: ir.schemaPath,
    },
  ]);
}
