import { VfsError, diagnostic, type Diagnostic } from "../errors/messages";
import { configValidators } from "./config-validators";
import { COLLECTION_META_RELATIVE_PATH } from "../schema/collection-meta";
import type { FieldIr, Ir, ObjectIr } from "./types";

/**
 * Phase 3: the schema is the only place documentation and defaults are written, so a gap here
 * would become a gap in every artifact. Refuse it before anything is emitted.
 */
export function checkIr(ir: Ir): Ir {
  const problems: Diagnostic[] = [];
  const fail = (pointer: string, detail: string) =>
    problems.push({ ...diagnostic("VFS040", pointer, { detail }), file: ir.schemaPath });
  const knownRoles = new Set(ir.roles.map((r) => r.name));

  try {
    configValidators(ir);
  } catch (e) {
    fail("", `does not compile: ${(e as Error).message}`);
  }

  const checkObject = (o: ObjectIr) => o.fields.forEach((f) => checkField(f));
  const checkField = (f: FieldIr) => {
    if (!f.description.trim()) fail(f.schemaPointer, `property "${f.name}" has no description`);
    // a linked default that breaks its source's rule is reported once, where it is written
    const source = f.defaultFrom ? fieldAt(ir, f.defaultFrom.slice(1)) : undefined;
    if (f.default !== undefined && !(source && !defaultFits(source)) && !defaultFits(f))
      fail(f.schemaPointer, `default ${JSON.stringify(f.default)} of "${f.name}" does not fit its own schema`);
    for (const r of f.roles)
      if (!knownRoles.has(r))
        fail(
          f.schemaPointer,
          `unknown role "${r}" in x-roles (the roles are listed in ${COLLECTION_META_RELATIVE_PATH})`,
        );
    if (f.itemObject) checkObject(f.itemObject);
  };

  ir.roleVariables.forEach((f) => {
    checkField(f);
    if (!f.roles.length) fail(f.schemaPointer, `role variable "${f.name}" names no role in x-roles`);
  });
  [ir.share, ir.hostDomain, ir.clusterVm, ir.domainTemplate, ir.renderOptions].forEach(checkObject);
  for (const m of ir.modules) {
    checkObject(m.args);
    if (!m.doc.shortDescription)
      fail(`/$defs/${m.defName}`, `module ${m.name} has no x-ansible-module.short_description`);
    if (!m.doc.examples) fail(`/$defs/${m.defName}`, `module ${m.name} has no x-ansible-module.examples`);
    if (!ir.moduleSides[m.name])
      fail(
        `/$defs/${m.defName}`,
        `module ${m.name} has no side (guest or host) in ${COLLECTION_META_RELATIVE_PATH} modules`,
      );
  }
  for (const name of Object.keys(ir.moduleSides)) {
    if (!ir.modules.some((m) => m.name === name))
      fail("/$defs", `${COLLECTION_META_RELATIVE_PATH} lists module ${name}, which has no $defs/module_${name}`);
  }
  if (problems.length) throw new VfsError(problems);
  return ir;
}

function fieldAt(ir: Ir, pointer: string): FieldIr | undefined {
  const objects = [
    ir.share,
    ir.hostDomain,
    ir.clusterVm,
    ir.domainTemplate,
    ir.renderOptions,
    ...ir.modules.map((m) => m.args),
  ];
  return [...ir.roleVariables, ...objects.flatMap((o) => o.fields)].find((f) => f.schemaPointer === pointer);
}

function defaultFits(f: FieldIr): boolean {
  const v = f.default;
  const typeOk =
    (f.type === "string" && typeof v === "string") ||
    (f.type === "boolean" && typeof v === "boolean") ||
    (f.type === "integer" && Number.isInteger(v)) ||
    (f.type === "number" && typeof v === "number") ||
    (f.type === "array" && Array.isArray(v)) ||
    (f.type === "object" && typeof v === "object" && v !== null && !Array.isArray(v));
  if (!typeOk) return false;
  if (f.enum && !f.enum.includes(v as string | number)) return false;
  if (f.pattern && typeof v === "string" && !new RegExp(f.pattern, "u").test(v)) return false;
  return true;
}
