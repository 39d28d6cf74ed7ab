import type { Ir } from "../../ir/types";
import type { JsonSchema } from "../../schema/load";
import { ANNOTATION_KEYWORDS } from "../../schema/ajv";
import { Messages, MessageOrigins, type MessageCode, type MessageOrigin } from "../../errors/messages";
import type { Outputs } from "../outputs";
import { CLUSTER_SCHEMA, README_VALIDATE_ONLY } from "../layout";
import { headerLine } from "../header";

/** Keywords whose value is a map of names to schemas (the names are data, never keywords). */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "dependentSchemas"]);
/** Keywords whose value is data, copied as is. */
const DATA_KEYWORDS = new Set(["default", "enum", "const", "examples", "required"]);

/** A schema without vfsgen's annotation keywords (x-expected, ...): what any JSON Schema tool reads. */
function publishable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(publishable);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (ANNOTATION_KEYWORDS.includes(key)) continue;
    if (DATA_KEYWORDS.has(key)) out[key] = value;
    else if (SCHEMA_MAPS.has(key) && typeof value === "object" && value !== null)
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, publishable(v)]));
    else out[key] = publishable(value);
  }
  return out;
}

/** The $defs names a schema refers to, directly or through the definitions it refers to. */
function referencedDefs(start: unknown, defs: Record<string, JsonSchema>): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && value.startsWith("#/$defs/")) {
        const name = value.slice("#/$defs/".length);
        if (!defs[name]) throw new Error(`the schema refers to ${value}, which it does not define`);
        if (!found.has(name)) {
          found.add(name);
          visit(defs[name]);
        }
      } else if (!DATA_KEYWORDS.has(key)) visit(value);
    }
  };
  visit(start);
  return [...found].sort();
}

/**
 * schemas/cluster-config.schema.json: the source schema's cluster_config, with what `vfsgen validate`
 * applies to each VM written into it. A member of a cluster is a VM when it has one of cluster_vm's
 * keys (cluster_config's description says so); such a member must then match cluster_vm.
 */
export function clusterConfigSchema(ir: Ir): Record<string, unknown> {
  const defs = ir.schema.$defs as Record<string, JsonSchema>;
  const config = structuredClone(defs.cluster_config) as JsonSchema & {
    properties?: { clusters?: { additionalProperties?: Record<string, unknown> } };
  };
  const cluster = config.properties?.clusters?.additionalProperties;
  if (!cluster || typeof cluster !== "object" || "additionalProperties" in cluster)
    throw new Error(
      "the schema's $defs/cluster_config no longer has clusters.additionalProperties (a cluster) without its own additionalProperties: the published cluster schema needs generating anew",
    );
  const vmKeys = Object.keys((defs.cluster_vm as { properties?: object }).properties ?? {});
  cluster.additionalProperties = {
    if: { type: "object", anyOf: vmKeys.map((k) => ({ required: [k] })) },
    then: { $ref: "#/$defs/cluster_vm" },
  };
  const names = referencedDefs(config, defs);
  const { title, description, ...rest } = config;
  return {
    // first, so the file's opening lines say it is generated, as every generated file's do
    $comment: headerLine(ir),
    $schema: ir.schema.$schema,
    $id: new URL(CLUSTER_SCHEMA.split("/").pop() as string, ir.schemaId).href,
    title,
    description,
    ...(publishable(rest) as object),
    $defs: Object.fromEntries(names.map((n) => [n, publishable(defs[n])])),
  };
}

const CHECKED_WHEN: Partial<Record<MessageOrigin, string>> = {
  reading: "reading the file, before any schema applies",
  validate: "validating, beyond what JSON Schema can say",
};

/** The README's list of the messages only `vfsgen validate` reports: what no schema-only tool checks. */
function validateOnlyRules(): string {
  const rows = (Object.keys(Messages) as MessageCode[])
    .filter((code) => CHECKED_WHEN[MessageOrigins[code]])
    // a code span keeps <cluster> and {placeholders} literal; a table cell still needs its pipes escaped
    .map((code) => `| ${code} | ${CHECKED_WHEN[MessageOrigins[code]]} | \`${Messages[code].replace(/\|/g, "\\|")}\` |`);
  return `| Code | Checked when | Message |\n|---|---|---|\n${rows.join("\n")}\n`;
}

/** The schemas published for editors, and what they cannot check. */
export function emitPublishedSchemas(ir: Ir): Outputs {
  return new Map([
    [CLUSTER_SCHEMA, `${JSON.stringify(clusterConfigSchema(ir), null, 2)}\n`],
    [README_VALIDATE_ONLY, validateOnlyRules()],
  ]);
}
