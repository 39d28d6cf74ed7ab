import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { ROLE_FILES, SEED_MOUNT_ROLE, SEED_ROLE_DIR, collectionRoleDir } from "../layout";
import { fieldsTable, variablesTable } from "../markdown";
import { htmlHeader } from "../header";
import { yamlFile } from "../yaml";
import { MODULE_TASK_TIMEOUT, argumentSpecsFile, defaultsFile, metaMainFile, roleIr } from "./common";

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

/** Guest tasks; `moduleName` is the FQCN in the collection and the short name in the plain role. */
export function mountTasks(moduleName: string): unknown[] {
  return [
    {
      name: "Install the virtio-fs guest packages",
      "ansible.builtin.package": { name: "{{ virtio_fs_packages }}", state: "present" },
      when: "virtio_fs_install_packages | bool",
    },
    {
      name: "Look for the Node.js interpreter the virtio-fs modules run with",
      "ansible.builtin.stat": { path: "{{ ansible_node_interpreter | default('/usr/bin/node') }}" },
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
`;
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
    const usage = `- name: Mount the virtio-fs shares\n  hosts: vms\n  become: true\n  roles:\n    - role: ${roleName}\n  vars:\n${USAGE_VARS}`;
    out.set(`${dir}/${ROLE_FILES.readme}`, roleReadme(ir, roleName, usage));
  }
  return out;
}
