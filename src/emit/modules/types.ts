import { IndentationText, Project, QuoteKind } from "ts-morph";
import type { FieldIr, Ir, ObjectIr } from "../../ir/types";
import { slashHeader } from "../header";

/** TypeScript interface names of the objects the modules receive. */
export function interfaceName(o: ObjectIr): string {
  if (o.name.startsWith("module_")) return `${pascal(o.name.slice("module_".length))}Args`;
  return pascal(o.name);
}

function pascal(s: string): string {
  return s
    .split(/[_-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

function tsType(f: FieldIr): string {
  if (f.enum) return f.enum.map((v) => JSON.stringify(v)).join(" | ");
  switch (f.type) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "integer":
    case "number":
      return "number";
    case "object":
      return "Record<string, unknown>";
    case "array": {
      if (f.itemObject) return `${interfaceName(f.itemObject)}[]`;
      const inner =
        f.itemType === "integer" || f.itemType === "number"
          ? "number"
          : f.itemType === "boolean"
            ? "boolean"
            : "string";
      return `${inner}[]`;
    }
  }
}

/** The argument types of every module, written with ts-morph from the schema. */
export function emitArgTypes(ir: Ir): string {
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Double },
  });
  const file = project.createSourceFile("types.ts", "");
  const objects: ObjectIr[] = [ir.share, ...ir.modules.map((m) => m.args)];
  for (const o of objects) {
    file.addInterface({
      name: interfaceName(o),
      isExported: true,
      docs: [o.description],
      properties: o.fields.map((f) => ({
        name: f.name,
        type: tsType(f),
        hasQuestionToken: !f.required,
        docs: [f.default === undefined ? f.description : `${f.description}\n@default ${JSON.stringify(f.default)}`],
      })),
    });
  }
  file.formatText({ indentSize: 2, convertTabsToSpaces: true });
  return slashHeader(ir) + file.getFullText();
}
