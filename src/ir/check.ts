import { VfsError, diagnostic, type Diagnostic } from "../errors/messages";
import { configValidators } from "./config-validators";
import { createAjv } from "../schema/ajv";
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
  const checkObject = (o: ObjectIr) =>
    o.fields.forEach((f) => {
      checkField(f);
      if (f.platformValues) fail(f.schemaPointer, `only a role variable can have x-platform-values`);
    });

  ir.roleVariables.forEach((f) => {
    checkField(f);
    if (!f.roles.length) fail(f.schemaPointer, `role variable "${f.name}" names no role in x-roles`);
    checkPlatformValues(ir, f, fail);
  });
  if (!ir.collection.platforms.length)
    fail("", `no target platform in ${COLLECTION_META_RELATIVE_PATH} is booted: galaxy_info.platforms would be empty`);
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

/**
 * x-platform-values keys name role vars files (a file name, so letters, digits and _ only), and each
 * value must pass the variable's own schema, as the default does.
 */
function checkPlatformValues(ir: Ir, f: FieldIr, fail: (pointer: string, detail: string) => void): void {
  if (!f.platformValues) return;
  if (typeof f.platformValues !== "object" || Array.isArray(f.platformValues)) {
    fail(f.schemaPointer, `x-platform-values of "${f.name}" is not an object of vars file name to value`);
    return;
  }
  const validate = createAjv(ir.schema).getSchema(`${ir.schemaId}#${f.schemaPointer}`);
  if (!validate) return fail(f.schemaPointer, `the schema of "${f.name}" does not compile`);
  for (const [file, value] of Object.entries(f.platformValues)) {
    if (!/^[A-Za-z0-9_]+$/.test(file))
      fail(f.schemaPointer, `x-platform-values key "${file}" of "${f.name}" is no vars file name (A-Z a-z 0-9 _)`);
    if (!validate(value))
      fail(
        f.schemaPointer,
        `x-platform-values ${file} ${JSON.stringify(value)} of "${f.name}" does not fit its own schema`,
      );
  }
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
