import type { FieldIr } from "../ir/types";

/** Markdown tables of schema fields, for the role READMEs and the repository README. */

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function fieldDefault(f: FieldIr): string {
  return f.default === undefined ? "" : `\`${JSON.stringify(f.default)}\``;
}

export function variablesTable(fields: FieldIr[]): string {
  const rows = fields.map(
    (f) =>
      `| \`${f.name}\` | ${f.type}${f.itemType ? ` of ${f.itemObject ? "share" : f.itemType}` : ""} | ${fieldDefault(f)}${f.platformValues ? " (by platform)" : ""} | ${cell(f.description)} |`,
  );
  return ["| Variable | Type | Default | Description |", "|---|---|---|---|", ...rows].join("\n");
}

export function fieldsTable(fields: FieldIr[], requiredNote: Record<string, string> = {}): string {
  const rows = fields.map((f) => {
    const choices = f.enum ? ` One of ${f.enum.map((v) => `\`${v}\``).join(", ")}.` : "";
    return `| \`${f.name}\` | ${f.type} | ${requiredNote[f.name] ?? (f.required ? "yes" : "no")} | ${fieldDefault(f)} | ${cell(f.description)}${choices} |`;
  });
  return ["| Field | Type | Required | Default | Description |", "|---|---|---|---|---|", ...rows].join("\n");
}
