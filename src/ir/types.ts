import type { JsonSchema } from "../schema/load";
import type { TargetPlatform } from "../schema/collection-meta";

export type { TargetPlatform };

export type FieldType = "string" | "boolean" | "integer" | "number" | "array" | "object";

/** One property of an object in the schema, with every $ref resolved. */
export interface FieldIr {
  name: string;
  /** JSON pointer of the property inside the schema. */
  schemaPointer: string;
  description: string;
  type: FieldType;
  required: boolean;
  default?: unknown;
  enum?: (string | number)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  /** The property whose default this one shares (x-default-from), a local JSON pointer. */
  defaultFrom?: string;
  /** For a module argument without a default: the value the module uses when it stays unset (x-fallback-from). */
  fallback?: unknown;
  /** For arrays: the element type, and the element object when it is one. */
  itemType?: FieldType;
  itemObject?: ObjectIr;
  /** Roles (virtio_fs_mount, virtio_fs_host) a role variable belongs to. */
  roles: string[];
  /**
   * For a role variable whose value depends on the platform (x-platform-values): the value per role
   * vars file, named by os_family, os_family_major, distribution or distribution_major (Debian_12,
   * RedHat, Fedora, ...); `default` holds where none matches.
   */
  platformValues?: Record<string, unknown>;
}

export interface ObjectIr {
  /** $defs name, or "root". */
  name: string;
  description: string;
  fields: FieldIr[];
  additionalProperties: boolean;
}

export interface ModuleDocIr {
  shortDescription: string;
  description: string[];
  examples: string;
  returns: Record<string, unknown>;
}

export interface ModuleIr {
  /** Module name, e.g. virtio_fs_mount. */
  name: string;
  /** $defs name of its arguments, e.g. module_virtio_fs_mount. */
  defName: string;
  args: ObjectIr;
  doc: ModuleDocIr;
  /** Guest modules run in VMs, host modules on the hypervisor. */
  side: "guest" | "host";
}

export interface RoleIr {
  /** Collection role name (virtio_fs_mount) and its seed-compatible plain name (virtio-fs-mount). */
  name: string;
  plainName?: string;
  side: "guest" | "host";
  shortDescription: string;
  description: string[];
  variables: FieldIr[];
}

/** From schemas/collection.json. */
export interface CollectionIr {
  namespace: string;
  name: string;
  version: string;
  description: string;
  /** "Name (@github-handle)", as module DOCUMENTATION requires. */
  authors: string[];
  license: "MIT";
  /** "YEAR HOLDER" of the LICENSE file. */
  copyright: string;
  /** ansible-core requirement, e.g. ">=2.16.0". */
  requiresAnsible: string;
  /** ansible-core lines the test suite runs ansible-test sanity with (e.g. ["2.19"]). */
  testedAnsibleCore: string[];
  repository: string;
  galaxyTags: string[];
  /** galaxy_info.platforms: only what the VM tests boot (target platforms with `booted`). */
  platforms: { name: string; versions: string[] }[];
  /** The oldest Node.js the modules run on, e.g. "18". */
  nodeMinVersion: string;
  /** Every platform the roles have variables for, with the facts it reports. */
  targetPlatforms: TargetPlatform[];
  executionEnvironment: {
    baseImage: string;
    pythonInterpreter: { packageSystem: string; pythonPath: string };
    ansibleRunner: string;
  };
}

export interface Ir {
  schemaPath: string;
  schemaId: string;
  /** The raw schema: validators are compiled from it, never from a copy. */
  schema: JsonSchema;
  title: string;
  description: string;
  collection: CollectionIr;
  roleVariables: FieldIr[];
  share: ObjectIr;
  hostDomain: ObjectIr;
  clusterVm: ObjectIr;
  domainTemplate: ObjectIr;
  /** Options of `vfsgen render` that are no template variable (image_dir). */
  renderOptions: ObjectIr;
  modules: ModuleIr[];
  /** Which side each module runs on, as collection.json says (checkIr matches it with modules). */
  moduleSides: Record<string, "guest" | "host">;
  roles: RoleIr[];
}
