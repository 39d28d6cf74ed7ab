import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { MOUNT_ROLE_TASK_FILES, ROLE_FILES, SEED_MOUNT_ROLE, SEED_ROLE_DIR, collectionRoleDir } from "../layout";
import { fieldsTable, variablesTable } from "../markdown";
import { htmlHeader } from "../header";
import { yamlFile } from "../yaml";
import { MODULE_TASK_TIMEOUT, argumentSpecsFile, defaultsFile, metaMainFile, roleIr } from "./common";
import { platformVarsFiles, platformsSection, setVarsTasks } from "./platform-vars";

/** Module arguments of the one virtio_fs_mount call, from the role's public variables. */
const MOUNT_ARGS: Record<string, string> = {
  mounts: "{{ virtio_fs_mounts }}",
  default_owner: "{{ virtio_fs_default_owner }}",
  default_group: "{{ virtio_fs_default_group }}",
  default_mode: "{{ virtio_fs_default_mode }}",
  default_options: "{{ virtio_fs_default_options }}",
  create_mount_dirs: "{{ virtio_fs_create_mount_dirs }}",
  persist: "{{ virtio_fs_persist_mounts }}",
  perform_mounts: "{{ virtio_fs_perform_mounts }}",
  backup: "{{ virtio_fs_fstab_backup }}",
  health_timeout: "{{ virtio_fs_health_timeout }}",
  recover: "{{ virtio_fs_recover_dead_shares }}",
};

/** The node the modules run with: the modules' #!/usr/bin/node unless ansible_node_interpreter says otherwise. */
const NODE_EXPR = "(ansible_node_interpreter | default('/usr/bin/node'))";
const NODE = `{{ ${NODE_EXPR} }}`;

/** tasks/node.yml: Node.js installed when absent, then its version checked before any module runs. */
export function nodeTasks(ir: Ir): unknown[] {
  const min = ir.collection.nodeMinVersion;
  // "v20.19.2" -> "20.19.2"; anything else (no output, a wrapper's banner) counts as 0, so it fails
  const version =
    "(virtio_fs_mount_node_version.stdout | default('') | trim | regex_search('^v?[0-9]+([.][0-9]+)*') or '0') | regex_replace('^v', '')";
  return [
    {
      name: "Look for the Node.js interpreter the virtio-fs modules run with",
      "ansible.builtin.stat": { path: NODE },
      register: "virtio_fs_mount_node",
    },
    {
      name: "Install Node.js for the virtio-fs modules",
      "ansible.builtin.package": { name: "{{ virtio_fs_nodejs_package }}", state: "present" },
      when: [
        "virtio_fs_install_packages | bool",
        "virtio_fs_install_nodejs | bool",
        "not virtio_fs_mount_node.stat.exists",
      ],
    },
    {
      name: "Look for Node.js again after its installation",
      "ansible.builtin.stat": { path: NODE },
      register: "virtio_fs_mount_node_installed",
    },
    {
      name: "Ask Node.js its version",
      "ansible.builtin.command": { argv: [NODE, "--version"] },
      register: "virtio_fs_mount_node_version",
      changed_when: false,
      check_mode: false,
      timeout: "{{ virtio_fs_node_check_timeout }}",
      when: "virtio_fs_mount_node_installed.stat.exists",
    },
    {
      // Before the first module call: an old Node.js fails there only as an opaque MODULE FAILURE.
      name: `Require Node.js ${min} or later for the virtio-fs modules`,
      "ansible.builtin.assert": {
        that: ["virtio_fs_mount_node_installed.stat.exists", `${version} is version('${min}', '>=')`],
        fail_msg:
          `the virtio-fs modules are Node.js programs and need Node.js >= ${min} on the guest, ` +
          `{{ ('but ' ~ ${NODE_EXPR} ~ ' reports ' ~ (virtio_fs_mount_node_version.stdout | default('') | trim)) ` +
          `if virtio_fs_mount_node_installed.stat.exists else ('but there is no ' ~ ${NODE_EXPR}) }}. ` +
          `Install Node.js ${min} or later (virtio_fs_nodejs_package, here {{ virtio_fs_nodejs_package }}, with ` +
          `virtio_fs_install_nodejs: true installs it when node is absent; where the distribution's nodejs is older, ` +
          `set virtio_fs_nodejs_package to a newer package or stream, or install Node.js from nodejs.org or NodeSource), ` +
          `or set ansible_node_interpreter to a Node.js >= ${min}`,
        quiet: true,
      },
    },
  ];
}

/** Guest tasks; `moduleName` is the FQCN in the collection and the short name in the plain role. */
export function mountTasks(moduleName: string): unknown[] {
  return [
    {
      name: "Choose the package names of this platform",
      "ansible.builtin.include_tasks": { file: ROLE_FILES.setVars.replace(/^tasks\//, "") },
    },
    {
      name: "Install the virtio-fs guest packages",
      "ansible.builtin.package": { name: "{{ virtio_fs_packages }}", state: "present" },
      when: "virtio_fs_install_packages | bool",
    },
    {
      name: "Install and check Node.js",
      "ansible.builtin.include_tasks": { file: MOUNT_ROLE_TASK_FILES.node.replace(/^tasks\//, "") },
    },
    {
      name: "Prepare the virtiofs kernel module for the image",
      [moduleName]: { mounts: [], load_module: true },
      timeout: MODULE_TASK_TIMEOUT,
      when: "packer_build | bool",
    },
    {
      name: "Apply the virtio-fs shares",
      [moduleName]: { ...MOUNT_ARGS, load_module: true },
      timeout: MODULE_TASK_TIMEOUT,
      when: "not (packer_build | bool)",
      register: "virtio_fs_mount_result",
    },
  ];
}

function roleReadme(ir: Ir, title: string, usage: string): string {
  const role = roleIr(ir, "virtio_fs_mount");
  return `${htmlHeader(ir)}# ${title}

${role.description.join("\n\n")}

All shares are applied by one \`virtio_fs_mount\` module call per host: mount points, mounts, fstab lines
(with \`nofail\`), live remounts when options change, and removal.

## Example

\`\`\`yaml
${usage}\`\`\`

## Variables

${variablesTable(role.variables)}

## Share fields (items of \`virtio_fs_mounts\`)

${fieldsTable(ir.share.fields)}

${platformsSection(ir, role)}`;
}

const USAGE_VARS = `    virtio_fs_mounts:
      - tag: datasets
        mount_point: /mnt/host-datasets
        owner: admin
        group: admin
        mode: "0755"
      - tag: containers
        mount_point: /mnt/host-containers
        readonly: true
`;

export function emitMountRole(ir: Ir): Outputs {
  const role = roleIr(ir, "virtio_fs_mount");
  const out: Outputs = new Map();
  const trees: [string, string, string][] = [
    [
      collectionRoleDir(ir, role.name),
      `${ir.collection.namespace}.${ir.collection.name}.virtio_fs_mount`,
      `${ir.collection.namespace}.${ir.collection.name}.virtio_fs_mount`,
    ],
    [SEED_ROLE_DIR, "virtio_fs_mount", SEED_MOUNT_ROLE],
  ];
  for (const [dir, moduleName, roleName] of trees) {
    out.set(`${dir}/${ROLE_FILES.defaults}`, defaultsFile(ir, role));
    out.set(`${dir}/${ROLE_FILES.argumentSpecs}`, argumentSpecsFile(ir, role));
    out.set(`${dir}/${ROLE_FILES.meta}`, metaMainFile(ir, role));
    out.set(`${dir}/${ROLE_FILES.tasks}`, yamlFile(ir, mountTasks(moduleName)));
    out.set(`${dir}/${ROLE_FILES.setVars}`, yamlFile(ir, setVarsTasks(role)));
    out.set(`${dir}/${MOUNT_ROLE_TASK_FILES.node}`, yamlFile(ir, nodeTasks(ir)));
    for (const [file, text] of platformVarsFiles(ir, role)) out.set(`${dir}/${file}`, text);
    const usage = `- name: Mount the virtio-fs shares\n  hosts: vms\n  become: true\n  roles:\n    - role: ${roleName}\n  vars:\n${USAGE_VARS}`;
    out.set(`${dir}/${ROLE_FILES.readme}`, roleReadme(ir, roleName, usage));
  }
  return out;
}
