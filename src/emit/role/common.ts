import type { Ir, RoleIr } from "../../ir/types";
import { optionSpecs, type OptionOverrides } from "../ansible-types";
import { yamlFile } from "../yaml";
import { defaultValue } from "./platform-vars";

/**
 * Ansible's own deadline on every task that runs a collection module (the task keyword `timeout`):
 * the last safety net above the modules' own deadlines, from the schema variable.
 */
export const MODULE_TASK_TIMEOUT = "{{ virtio_fs_module_timeout }}";

export function roleIr(ir: Ir, name: string): RoleIr {
  const role = ir.roles.find((r) => r.name === name);
  if (!role) throw new Error(`no role ${name} in the IR`);
  return role;
}

/**
 * defaults/main.yml: every public variable, with the schema's default, or for a platform-dependent one
 * the internal variable vars/ sets for the platform (platform-vars.ts).
 */
export function defaultsFile(ir: Ir, role: RoleIr): string {
  const values = Object.fromEntries(
    role.variables.filter((v) => v.default !== undefined).map((v) => [v.name, defaultValue(role, v)]),
  );
  return yamlFile(ir, values, `Every public variable of the ${role.name} role; meta/argument_specs.yml types them.`);
}

/** meta/argument_specs.yml: Ansible validates the role's variables against it before the first task. */
export function argumentSpecsFile(ir: Ir, role: RoleIr, overrides: OptionOverrides = {}): string {
  return yamlFile(ir, {
    argument_specs: {
      main: {
        short_description: role.shortDescription,
        description: role.description,
        options: withoutPlatformDefaults(role, optionSpecs(role.variables, overrides)),
      },
    },
  });
}

/** A platform-dependent variable has no one default: its description says how it is chosen. */
function withoutPlatformDefaults(role: RoleIr, specs: Record<string, unknown>): Record<string, unknown> {
  for (const f of role.variables) if (f.platformValues) delete (specs[f.name] as Record<string, unknown>).default;
  return specs;
}

export function metaMainFile(ir: Ir, role: RoleIr): string {
  return yamlFile(ir, {
    galaxy_info: {
      author: ir.collection.authors.join(", "),
      description: role.shortDescription,
      license: ir.collection.license,
      min_ansible_version: minAnsibleVersion(ir.collection.requiresAnsible),
      platforms: ir.collection.platforms,
      galaxy_tags: ir.collection.galaxyTags,
    },
    dependencies: [],
  });
}

/** ">=2.16.0" (meta/runtime.yml's requires_ansible) as galaxy_info's min_ansible_version "2.16". */
function minAnsibleVersion(requires: string): string {
  return requires.replace(/^>=/, "").replace(/\.0$/, "");
}
