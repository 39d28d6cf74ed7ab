import * as path from "path";
import type { Ir } from "../ir/types";
import { REGION_SEPARATOR } from "./outputs";

/*
 * Every path the generator writes, relative to the repository root. Emitters and the writer take
 * paths only from here, so moving an artifact is a one-line change that `generate --check` and the
 * golden-tree test then confirm.
 */

/** The seed-compatible plain tree, laid out like the original repository's ansible/ and templates/. */
export const SEED_ROOT = "generated";
/** The Ansible collection tree (collection/ansible_collections/<namespace>/<name>). */
export const COLLECTIONS_ROOT = "collection";
/** Hand-written module logic; the generated module sources sit in it, next to their users. */
export const RUNTIME_ROOT = "src/runtime";
/** Generated module sources (argument types, validators, entry points) the runtime compiles against. */
export const MODULE_SOURCES_ROOT = `${RUNTIME_ROOT}/generated`;

/** Directories the generator owns entirely: anything in them that it did not emit is stale. */
export const MANAGED_ROOTS = [SEED_ROOT, COLLECTIONS_ROOT, MODULE_SOURCES_ROOT];

/** The managed root a file lies in, or undefined for a hand-written file with generated regions. */
export function managedRootOf(file: string): string | undefined {
  return MANAGED_ROOTS.find((dir) => file.startsWith(`${dir}/`));
}

/** The libvirt domain template's file name, in both trees (and named in rendered XML headers). */
export const TEMPLATE_NAME = "controller.xml.j2";

/** The README's field tables, spliced between its GENERATED markers. */
export const README_FIELDS = `README.md${REGION_SEPARATOR}fields`;

/**
 * The published JSON Schema of the cluster configuration file (clusters.<cluster>.<vm>), for editors;
 * its $id is this file name resolved against the source schema's $id. Vars files use the source schema.
 */
export const CLUSTER_SCHEMA = "schemas/cluster-config.schema.json";

/** The README's list of the rules only `vfsgen validate` checks, spliced between its GENERATED markers. */
export const README_VALIDATE_ONLY = `README.md${REGION_SEPARATOR}validate-only-rules`;

/** The repository's licence (the same text ships in the collection). */
export const REPO_LICENSE = "LICENSE";

/**
 * The ansible-builder definition of an execution environment that installs the collection tarball,
 * at the repository root: `ansible-galaxy collection build` writes the tarball next to it there.
 */
export const EXECUTION_ENVIRONMENT = "execution-environment.yml";

/**
 * Generated outputs that live beside hand-written files, outside the managed roots: README regions,
 * the published cluster schema, and the root files whose tools expect them there (LICENSE,
 * execution-environment.yml). Every other output lies in a managed root.
 */
export const OUTPUTS_OUTSIDE_MANAGED_ROOTS = [
  README_FIELDS,
  README_VALIDATE_ONLY,
  CLUSTER_SCHEMA,
  REPO_LICENSE,
  EXECUTION_ENVIRONMENT,
];

/** Files of a role, relative to its directory (Ansible's fixed role layout). */
export const ROLE_FILES = {
  defaults: "defaults/main.yml",
  argumentSpecs: "meta/argument_specs.yml",
  meta: "meta/main.yml",
  tasks: "tasks/main.yml",
  /** Chooses the platform variables; the first task of tasks/main.yml includes it. */
  setVars: "tasks/set_vars.yml",
  /** The internal variables' values where no platform file matches. */
  varsMain: "vars/main.yml",
  readme: "README.md",
} as const;

/** A role's platform vars file (RedHat, Debian_12, ...). */
export function roleVarsFile(name: string): string {
  return `vars/${name}.yml`;
}

/** The guest role's task files besides tasks/main.yml (a test runs one alone with tasks_from). */
export const MOUNT_ROLE_TASK_FILES = {
  node: "tasks/node.yml",
} as const;

// The collection

export function collectionRoot(ir: Ir): string {
  return `${COLLECTIONS_ROOT}/ansible_collections/${ir.collection.namespace}/${ir.collection.name}`;
}

/** Files at the top of the collection (galaxy.yml and its neighbours). */
export const COLLECTION_FILES = {
  galaxy: "galaxy.yml",
  runtime: "meta/runtime.yml",
  readme: "README.md",
  changelog: "CHANGELOG.md",
  ansibleLint: ".ansible-lint",
  yamllint: ".yamllint",
  license: "LICENSE",
  changelogConfig: "changelogs/config.yaml",
  changelogData: "changelogs/changelog.yaml",
} as const;

/** `ansible-test sanity`'s ignore file for one ansible-core line ("2.19"), relative to the collection. */
export function sanityIgnoreFile(coreLine: string): string {
  return `tests/sanity/ignore-${coreLine}.txt`;
}

/**
 * Hand-kept changelog sources (outside the managed trees, read by the changelog emitter):
 * fragments are written by hand, changelog.yaml and CHANGELOG.md only by antsibull-changelog
 * (scripts/changelog.sh), and copied into the collection by the generator.
 */
export const CHANGELOG_SOURCES = {
  fragments: "changelogs/fragments",
  data: "changelogs/changelog.yaml",
  rendered: "changelogs/CHANGELOG.md",
} as const;

export function collectionFile(ir: Ir, file: string): string {
  return `${collectionRoot(ir)}/${file}`;
}

export function collectionRoleDir(ir: Ir, role: string): string {
  return `${collectionRoot(ir)}/roles/${role}`;
}

/** The host role's task files besides tasks/main.yml (a lab can run one alone with tasks_from). */
export const HOST_ROLE_TASK_FILES = {
  virtiofsd: "tasks/virtiofsd.yml",
  readonlyWrapper: "tasks/readonly_wrapper.yml",
} as const;

/** The read-only virtiofsd wrapper the host role installs (a file of the role, copied as is). */
export const READONLY_WRAPPER_FILE = "virtiofsd-readonly";

export function collectionReadonlyWrapper(ir: Ir, hostRole: string): string {
  return `${collectionRoleDir(ir, hostRole)}/files/${READONLY_WRAPPER_FILE}`;
}

/** The host role ships the domain template for defining new domains. */
export function collectionTemplate(ir: Ir, hostRole: string): string {
  return `${collectionRoleDir(ir, hostRole)}/templates/${TEMPLATE_NAME}`;
}

export function collectionPlaybook(ir: Ir): string {
  return `${collectionRoot(ir)}/playbooks/virtio_fs_runtime_config.yml`;
}

/** The one-run playbook of a `vfsgen inventory`: the host role on the hypervisors, then the guest role. */
export function collectionClusterPlaybook(ir: Ir): string {
  return `${collectionRoot(ir)}/playbooks/virtio_fs_cluster_config.yml`;
}

/** The inventory plugin that reads a cluster configuration itself (`ansible-inventory -i x.vfs.yml`). */
export const INVENTORY_PLUGIN = "vfs_cluster";

export function collectionInventoryPlugin(ir: Ir): string {
  return `${collectionRoot(ir)}/plugins/inventory/${INVENTORY_PLUGIN}.py`;
}

export function collectionModulesDir(ir: Ir): string {
  return `${collectionRoot(ir)}/plugins/modules`;
}

/** The shipped module: one bundled CommonJS file. */
export function collectionModule(ir: Ir, module: string): string {
  return `${collectionModulesDir(ir)}/${module}.cjs`;
}

/** The module's sidecar documentation for ansible-doc. */
export function collectionModuleDoc(ir: Ir, module: string): string {
  return `${collectionModulesDir(ir)}/${module}.yml`;
}

// The seed-compatible tree

/** The seed's role name (dashes, as in the original repository). */
export const SEED_MOUNT_ROLE = "virtio-fs-mount";
export const SEED_ROLE_DIR = `${SEED_ROOT}/ansible/roles/${SEED_MOUNT_ROLE}`;
export const SEED_PLAYBOOK = `${SEED_ROOT}/ansible/playbooks/playbook-virtio-fs-runtime-config.yml`;
export const SEED_TEMPLATE = `${SEED_ROOT}/templates/${TEMPLATE_NAME}`;

/** How the seed playbook names the seed role: a path relative to the playbook's directory. */
export const SEED_PLAYBOOK_ROLE_REF = path.posix.relative(path.posix.dirname(SEED_PLAYBOOK), SEED_ROLE_DIR);

/** A guest module in the seed role's library/, where Ansible finds it without a collection. */
export function seedModule(module: string): string {
  return `${SEED_ROLE_DIR}/library/${module}.cjs`;
}

// Module sources (bundled into the shipped modules)

export const MODULE_TYPES = `${MODULE_SOURCES_ROOT}/types.ts`;

export function moduleSource(module: string, file: "main.ts" | "validate.js" | "validate.d.ts"): string {
  return `${MODULE_SOURCES_ROOT}/${module}/${file}`;
}

/** A module's hand-written logic (exports main). */
export function moduleLogic(module: string): string {
  return `${RUNTIME_ROOT}/modules/${module}.ts`;
}

/** The specifier a TypeScript file at `from` imports `to` with (both repository-relative). */
export function importSpecifier(from: string, to: string): string {
  const rel = path.posix.relative(path.posix.dirname(from), to.replace(/\.(ts|js)$/, ""));
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** The file `ansible-galaxy collection build` writes. */
export function collectionTarball(ir: Ir): string {
  return `${ir.collection.namespace}-${ir.collection.name}-${ir.collection.version}.tar.gz`;
}
