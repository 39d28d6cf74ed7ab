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
  /** "Name (@github-handle)": the form module DOCUMENTATION requires (ansible-test validate-modules). */
  authors: string[];
  /** SPDX identifier; the generator holds the text of MIT only. */
  license: "MIT";
  /** "YEAR HOLDER" of the LICENSE file's copyright line. */
  copyright: string;
  requires_ansible: string;
  /** ansible-core lines (e.g. "2.19") the test suite runs ansible-test sanity with: one ignore file each. */
  tested_ansible_core: string[];
  repository: string;
  galaxy_tags: string[];
  /** The oldest Node.js the modules run on; the guest role refuses an older one before its first module call. */
  node_min_version: string;
  /**
   * The platforms the roles have variables for, with the facts they report (the roles choose their
   * platform variables from these facts; a test fakes them); `booted` ones are those the VM tests boot,
   * and only they go into galaxy_info.platforms.
   */
  target_platforms: TargetPlatform[];
  roles: { name: string; plain_name?: string; side: Side; short_description: string; description: string[] }[];
  modules: Record<string, { side: Side }>;
  /** The ansible-builder execution environment that installs the collection (execution-environment.yml). */
  execution_environment: {
    base_image: string;
    python_interpreter: { package_system: string; python_path: string };
    /** pip requirement of ansible-runner, which AWX / Automation Platform run playbooks with. */
    ansible_runner: string;
  };
}

/** The facts a role chooses its platform variables by (ansible_facts names). */
export const PLATFORM_FACTS = ["os_family", "distribution", "distribution_major_version"] as const;

export interface TargetPlatform {
  name: string;
  facts: Record<(typeof PLATFORM_FACTS)[number], string>;
  booted?: { name: string; version: string };
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
    "copyright",
    "requires_ansible",
    "tested_ansible_core",
    "repository",
    "galaxy_tags",
    "node_min_version",
    "target_platforms",
    "roles",
    "modules",
    "execution_environment",
  ],
  properties: {
    namespace: ansibleName,
    name: ansibleName,
    version: { type: "string", pattern: "^[0-9]+\\.[0-9]+\\.[0-9]+$" },
    description: text,
    authors: { type: "array", minItems: 1, items: { type: "string", pattern: "^[^()]+ \\(@[A-Za-z0-9-]+\\)$" } },
    license: { enum: ["MIT"] },
    copyright: { type: "string", pattern: "^[0-9]{4}(-[0-9]{4})? [^\\n]+$" },
    requires_ansible: { type: "string", pattern: "^>=[0-9]+\\.[0-9]+(\\.[0-9]+)?$" },
    tested_ansible_core: {
      type: "array",
      minItems: 1,
      uniqueItems: true,
      items: { type: "string", pattern: "^2\\.[0-9]+$" },
    },
    repository: text,
    galaxy_tags: texts,
    node_min_version: { type: "string", pattern: "^[0-9]+(\\.[0-9]+){0,2}$" },
    target_platforms: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "facts"],
        properties: {
          name: text,
          facts: {
            type: "object",
            additionalProperties: false,
            required: [...PLATFORM_FACTS],
            properties: Object.fromEntries(PLATFORM_FACTS.map((f) => [f, text])),
          },
          booted: {
            type: "object",
            additionalProperties: false,
            required: ["name", "version"],
            properties: { name: text, version: text },
          },
        },
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
    execution_environment: {
      type: "object",
      additionalProperties: false,
      required: ["base_image", "python_interpreter", "ansible_runner"],
      properties: {
        base_image: text,
        python_interpreter: {
          type: "object",
          additionalProperties: false,
          required: ["package_system", "python_path"],
          properties: { package_system: text, python_path: text },
        },
        ansible_runner: text,
      },
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
