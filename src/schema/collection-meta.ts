import type { ErrorObject } from "ajv";
import Ajv2020 from "ajv/dist/2020";

export const COLLECTION_META_RELATIVE_PATH = "schemas/collection.json";

export type Side = "guest" | "host";

/** schemas/collection.json: the collection's facts that are not variables (names, version, roles, sides). */
export interface CollectionMeta {
  namespace: string;
  name: string;
  version: string;
  description: string;
  authors: string[];
  license: string;
  requires_ansible: string;
  repository: string;
  galaxy_tags: string[];
  platforms: { name: string; versions: string[] }[];
  roles: { name: string; plain_name?: string; side: Side; short_description: string; description: string[] }[];
  modules: Record<string, { side: Side }>;
}

const text = { type: "string", minLength: 1 };
const texts = { type: "array", items: text, minItems: 1 };
const ansibleName = { type: "string", pattern: "^[a-z][a-z0-9_]*$" };
const side = { enum: ["guest", "host"] };

/** The shape of schemas/collection.json; what each fact means is in CollectionMeta. */
const META_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: [
    "namespace",
    "name",
    "version",
    "description",
    "authors",
    "license",
    "requires_ansible",
    "repository",
    "galaxy_tags",
    "platforms",
    "roles",
    "modules",
  ],
  properties: {
    namespace: ansibleName,
    name: ansibleName,
    version: { type: "string", pattern: "^[0-9]+\\.[0-9]+\\.[0-9]+$" },
    description: text,
    authors: texts,
    license: text,
    requires_ansible: { type: "string", pattern: "^>=[0-9]+\\.[0-9]+(\\.[0-9]+)?$" },
    repository: text,
    galaxy_tags: texts,
    platforms: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "versions"],
        properties: { name: text, versions: texts },
      },
    },
    roles: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "side", "short_description", "description"],
        properties: {
          name: ansibleName,
          plain_name: { type: "string", pattern: "^[a-z][a-z0-9-]*$" },
          side,
          short_description: text,
          description: texts,
        },
      },
    },
    modules: {
      type: "object",
      additionalProperties: { type: "object", additionalProperties: false, required: ["side"], properties: { side } },
    },
  },
};

let compiled: ReturnType<Ajv2020["compile"]> | undefined;

/** Every way the metadata breaks its shape, as pointer and message. */
export function collectionMetaProblems(data: unknown): { pointer: string; detail: string }[] {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(META_SCHEMA);
  if (compiled(data)) return [];
  return (compiled.errors ?? []).map((e: ErrorObject) => ({
    pointer: e.instancePath,
    detail: `${e.message ?? "invalid"}${e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : ""}`,
  }));
}
