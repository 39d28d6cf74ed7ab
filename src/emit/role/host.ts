import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { ROLE_FILES, collectionRoleDir } from "../layout";
import { variablesTable } from "../markdown";
import { htmlHeader } from "../header";
import { yamlFile } from "../yaml";
import { argumentSpecsFile, defaultsFile, metaMainFile, roleIr } from "./common";

const ALL_SHARES = "{{ virtio_fs_host_domains | map(attribute='mounts') | flatten }}";

export function hostTasks(ir: Ir): unknown[] {
  const fqcn = `${ir.collection.namespace}.${ir.collection.name}`;
  return [
    {
      name: "Check that virtiofsd is installed",
      "ansible.builtin.stat": { path: "{{ virtio_fs_virtiofsd_path }}" },
      register: "virtio_fs_host_virtiofsd",
    },
    {
      name: "Check that QEMU is installed",
      "ansible.builtin.stat": { path: "{{ virtio_fs_qemu_path }}" },
      register: "virtio_fs_host_qemu",
    },
    {
      name: "Read the libvirt daemon version",
      "ansible.builtin.command": { argv: ["virsh", "-c", "{{ virtio_fs_libvirt_uri }}", "version", "--daemon"] },
      register: "virtio_fs_host_virsh_version",
      changed_when: false,
      check_mode: false,
    },
    {
      name: "Record the libvirt daemon version",
      "ansible.builtin.set_fact": {
        virtio_fs_host_libvirt_detected:
          "{{ virtio_fs_host_virsh_version.stdout | regex_search('daemon: *([0-9.]+)', '\\1') | first }}",
      },
    },
    {
      name: "Require virtiofsd, QEMU and libvirt 6.2 or later",
      "ansible.builtin.assert": {
        that: [
          "virtio_fs_host_virtiofsd.stat.exists",
          "virtio_fs_host_qemu.stat.exists",
          "virtio_fs_host_libvirt_detected is version('6.2', '>=')",
        ],
        fail_msg:
          "virtio-fs needs {{ virtio_fs_virtiofsd_path }} (found: {{ virtio_fs_host_virtiofsd.stat.exists }}), {{ virtio_fs_qemu_path }} (found: {{ virtio_fs_host_qemu.stat.exists }}) and libvirt >= 6.2 (found: {{ virtio_fs_host_libvirt_detected }}); on Debian install qemu-system-x86 and libvirt-daemon-system",
        quiet: true,
      },
    },
    {
      name: "Check the host directories of the shares",
      "ansible.builtin.stat": { path: "{{ item.host_path }}" },
      loop: ALL_SHARES,
      loop_control: { label: "{{ item.tag }}: {{ item.host_path }}" },
      register: "virtio_fs_host_dirs",
    },
    {
      name: "Create the missing host directories",
      "ansible.builtin.file": {
        path: "{{ item.item.host_path }}",
        state: "directory",
        mode: "{{ virtio_fs_host_dir_mode }}",
      },
      loop: "{{ virtio_fs_host_dirs.results }}",
      loop_control: { label: "{{ item.item.host_path }}" },
      when: ["virtio_fs_host_create_dirs | bool", "not item.stat.exists"],
    },
    {
      name: "Refuse shares whose host directory is missing",
      "ansible.builtin.assert": {
        that: ["item.stat.exists", "item.stat.isdir"],
        fail_msg:
          "host directory {{ item.item.host_path }} of share {{ item.item.tag }} does not exist or is not a directory: create it, or set virtio_fs_host_create_dirs: true",
        quiet: true,
      },
      loop: "{{ virtio_fs_host_dirs.results }}",
      loop_control: { label: "{{ item.item.host_path }}" },
      when: "not (virtio_fs_host_create_dirs | bool)",
    },
    {
      name: "Apply the virtio-fs shares of each domain",
      [`${fqcn}.virtio_fs_domain`]: {
        name: "{{ item.name }}",
        uri: "{{ virtio_fs_libvirt_uri }}",
        mounts: "{{ item.mounts }}",
        libvirt_version: "{{ virtio_fs_host_libvirt_detected }}",
      },
      loop: "{{ virtio_fs_host_domains }}",
      loop_control: { label: "{{ item.name }}" },
      register: "virtio_fs_host_domain_results",
    },
    {
      name: "Report the domains that must be restarted",
      "ansible.builtin.debug": {
        msg: "Domain {{ item.item.name }} is running: restart it to see its new virtio-fs shares",
      },
      loop: "{{ virtio_fs_host_domain_results.results }}",
      loop_control: { label: "{{ item.item.name }}" },
      when: "item.restart_required | default(false)",
    },
  ];
}

export function emitHostRole(ir: Ir): Outputs {
  const role = roleIr(ir, "virtio_fs_host");
  const dir = collectionRoleDir(ir, role.name);
  const fqcn = `${ir.collection.namespace}.${ir.collection.name}`;
  const readme = `${htmlHeader(ir)}# ${fqcn}.virtio_fs_host

${role.description.join("\n\n")}

The role also ships \`templates/controller.xml.j2\`, the complete libvirt domain template, for defining
new domains with \`ansible.builtin.template\` and \`virsh define\`.

## Example

\`\`\`yaml
- name: Offer host directories to the controller VM
  hosts: hypervisors
  become: true
  roles:
    - role: ${fqcn}.virtio_fs_host
  vars:
    virtio_fs_host_create_dirs: true
    virtio_fs_host_domains:
      - name: hpc-controller
        mounts:
          - tag: datasets
            host_path: /data/ml-datasets
            mount_point: /mnt/host-datasets
\`\`\`

## Variables

${variablesTable(role.variables)}
`;
  return new Map([
    [`${dir}/${ROLE_FILES.defaults}`, defaultsFile(ir, role)],
    [`${dir}/${ROLE_FILES.argumentSpecs}`, argumentSpecsFile(ir, role, { require: ["host_path"] })],
    [`${dir}/${ROLE_FILES.meta}`, metaMainFile(ir, role)],
    [`${dir}/${ROLE_FILES.tasks}`, yamlFile(ir, hostTasks(ir))],
    [`${dir}/${ROLE_FILES.readme}`, readme],
  ]);
}
