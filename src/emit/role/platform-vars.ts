import type { FieldIr, Ir, RoleIr, TargetPlatform } from "../../ir/types";
import { ROLE_FILES, roleVarsFile } from "../layout";
import { yamlFile } from "../yaml";

/**
 * Platform variables, linux-system-roles style: a public variable whose value depends on the platform
 * (x-platform-values in the schema) defaults to an internal `__<role>_<name>` variable. vars/main.yml
 * gives that its schema default; tasks/set_vars.yml then loads vars/<file>.yml for the host's facts,
 * generic to specific, each overriding the one before. A user who sets the public variable (inventory,
 * play vars) wins over the role default, so the platform's choice never overrides the user's.
 */

/**
 * Vars file names, in the order they are loaded: os_family (RedHat), os_family and major version
 * (RedHat_9, which covers Rocky and Alma too), distribution (Fedora), distribution and major version
 * (Debian_12). Each is a Jinja expression over ansible_facts.
 */
const LAYERS = [
  "ansible_facts.os_family",
  "ansible_facts.os_family ~ '_' ~ ansible_facts.distribution_major_version",
  "ansible_facts.distribution",
  "ansible_facts.distribution ~ '_' ~ ansible_facts.distribution_major_version",
];

/** The same order for the generator (README table, tests): the file names one platform loads. */
export function platformLayers(facts: TargetPlatform["facts"]): string[] {
  const names = [
    facts.os_family,
    `${facts.os_family}_${facts.distribution_major_version}`,
    facts.distribution,
    `${facts.distribution}_${facts.distribution_major_version}`,
  ];
  return names.filter((n, i) => names.indexOf(n) === i);
}

export function platformFields(role: RoleIr): FieldIr[] {
  return role.variables.filter((v) => v.platformValues);
}

/** The internal variable a platform-dependent public variable defaults to. */
export function internalName(role: RoleIr, f: FieldIr): string {
  return `__${role.name}_${f.name.replace(/^virtio_fs_/, "")}`;
}

/** The role's own list of its vars files: facts only pick among names the generator wrote. */
function filesVar(role: RoleIr): string {
  return `__${role.name}_platform_files`;
}

/** Every vars file name any platform-dependent variable of the role has a value in, sorted. */
function varsFileNames(role: RoleIr): string[] {
  return [...new Set(platformFields(role).flatMap((f) => Object.keys(f.platformValues ?? {})))].sort();
}

/** The value a platform with these facts gets, resolved the way tasks/set_vars.yml resolves it. */
export function platformValue(f: FieldIr, facts: TargetPlatform["facts"]): unknown {
  let value = f.default;
  for (const layer of platformLayers(facts))
    if (f.platformValues && layer in f.platformValues) value = f.platformValues[layer];
  return value;
}

/** defaults/main.yml value of a role variable: the internal variable for platform-dependent ones. */
export function defaultValue(role: RoleIr, f: FieldIr): unknown {
  return f.platformValues ? `{{ ${internalName(role, f)} }}` : f.default;
}

/** vars/main.yml and one vars/<file>.yml per vars file name. */
export function platformVarsFiles(ir: Ir, role: RoleIr): Map<string, string> {
  const fields = platformFields(role);
  const out = new Map<string, string>();
  if (!fields.length) return out;
  out.set(
    ROLE_FILES.varsMain,
    yamlFile(
      ir,
      {
        [filesVar(role)]: varsFileNames(role),
        ...Object.fromEntries(fields.map((f) => [internalName(role, f), f.default])),
      },
      `Where no platform file matches: the schema's defaults. tasks/set_vars.yml loads the platform's files over them.`,
    ),
  );
  for (const file of varsFileNames(role)) {
    const values = fields
      .filter((f) => f.platformValues && file in f.platformValues)
      .map((f) => [internalName(role, f), f.platformValues![file]]);
    out.set(roleVarsFile(file), yamlFile(ir, Object.fromEntries(values), `Platform variables for ${file}.`));
  }
  return out;
}

/** tasks/set_vars.yml: gather the distribution facts if the play did not, then load the platform's files. */
export function setVarsTasks(role: RoleIr): unknown[] {
  const file = `__${role.name}_vars_file`;
  const facts = ["os_family", "distribution", "distribution_major_version"];
  return [
    {
      name: "Gather the distribution facts the platform variables are chosen by",
      "ansible.builtin.setup": { gather_subset: ["!all", "min"] },
      when: facts.map((f) => `ansible_facts.${f} is not defined`).join(" or "),
    },
    {
      // Only names from the role's own list: a fact is the guest's word, never a path to load.
      name: "Load the variables of this platform",
      "ansible.builtin.include_vars": { file: `{{ ${file} }}` },
      loop: `{{ [${LAYERS.join(", ")}] | unique | select('in', ${filesVar(role)}) | list }}`,
      vars: { [file]: "{{ role_path }}/vars/{{ item }}.yml" },
    },
  ];
}

/** Markdown table: what each target platform gets for `fields`, and whether the VM tests boot it. */
export function platformsTable(ir: Ir, fields: FieldIr[]): string {
  const code = (v: unknown) => `\`${(Array.isArray(v) ? v.join(", ") : String(v)).replace(/\|/g, "\\|")}\``;
  const rows = ir.collection.targetPlatforms.map((p) => {
    const facts = `${p.facts.os_family} / ${p.facts.distribution} / ${p.facts.distribution_major_version}`;
    const tested = p.booted ? "booted by the VM tests" : "variables provided, not booted";
    return `| ${p.name} | ${facts} | ${tested} | ${fields.map((f) => code(platformValue(f, p.facts))).join(" | ")} |`;
  });
  const header = `| Platform | Facts (os_family / distribution / major) | Tested | ${fields.map((f) => `\`${f.name}\``).join(" | ")} |`;
  return [header, `|${"---|".repeat(3 + fields.length)}`, ...rows].join("\n");
}

/** README section: what each target platform gets, and which of them the VM tests boot. */
export function platformsSection(ir: Ir, role: RoleIr): string {
  const fields = platformFields(role);
  return `## Platforms

The role chooses ${fields.map((f) => `\`${f.name}\``).join(", ")} from the host's facts (it gathers the
minimal facts itself when the play did not): \`vars/\` holds one file per OS family, family and major
version, distribution, and distribution and major version, loaded in that order over \`vars/main.yml\`.
Setting a variable yourself overrides the platform's choice. \`galaxy_info.platforms\` lists only the
platforms the VM tests boot; the others have variables provided, not booted.

${platformsTable(ir, fields)}
`;
}
