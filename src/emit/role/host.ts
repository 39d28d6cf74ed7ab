import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import {
  HOST_ROLE_TASK_FILES,
  READONLY_WRAPPER_FILE,
  ROLE_FILES,
  collectionReadonlyWrapper,
  collectionRoleDir,
} from "../layout";
import { readonlyWrapperScript } from "./readonly-wrapper";
import { variablesTable } from "../markdown";
import { htmlHeader } from "../header";
import { yamlFile } from "../yaml";
import { MODULE_TASK_TIMEOUT, argumentSpecsFile, defaultsFile, metaMainFile, roleIr } from "./common";
import { platformVarsFiles, platformsSection, setVarsTasks } from "./platform-vars";

/** The read-only shares that keep a device (a Jinja expression). */
const RO_SHARES =
  "virtio_fs_host_domains | map(attribute='mounts') | flatten | selectattr('readonly', 'defined') | selectattr('readonly') | rejectattr('state', 'defined', 'absent') | list";
/**
 * auto: <readonly/> only where both libvirt (>= 11.0) and the virtiofsd found (Rust >= 1.13, which has
 * --readonly) support it, else the wrapper; the virtio_fs_domain module then gets the resolved choice.
 */
const RESOLVED_MECHANISM =
  "{{ ('readonly' if (virtio_fs_host_libvirt_detected is version('11.0', '>=') and virtio_fs_host_virtiofsd_readonly | bool) else 'wrapper') if virtio_fs_readonly_mechanism == 'auto' else virtio_fs_readonly_mechanism }}";

/** The packages of this platform (vars/), named in the preflight's failure message. */
const INSTALL_HINT =
  "on {{ ansible_facts.distribution | default('this host') }} {{ ansible_facts.distribution_major_version | default('') }} install the packages {{ virtio_fs_virtiofsd_package }} (virtiofsd), {{ virtio_fs_qemu_package }} (QEMU) and {{ virtio_fs_libvirt_package }} (libvirt), or set virtio_fs_virtiofsd_candidates and virtio_fs_qemu_path to where they are";

/** tasks/virtiofsd.yml: the first virtiofsd candidate that exists, its version and capabilities. */
export function virtiofsdTasks(): unknown[] {
  return [
    {
      name: "Look for virtiofsd where distributions install it",
      "ansible.builtin.stat": { path: "{{ item }}" },
      loop: "{{ virtio_fs_virtiofsd_candidates }}",
      register: "virtio_fs_host_virtiofsd_stats",
    },
    {
      name: "Record the virtiofsd found",
      "ansible.builtin.set_fact": {
        virtio_fs_host_virtiofsd:
          "{{ virtio_fs_host_virtiofsd_stats.results | selectattr('stat.exists') | map(attribute='item') | first | default('') }}",
      },
    },
    {
      name: "Ask virtiofsd its version and capabilities",
      "ansible.builtin.command": { argv: ["{{ virtio_fs_host_virtiofsd }}", "{{ item }}"] },
      loop: ["--version", "--print-capabilities"],
      register: "virtio_fs_host_virtiofsd_probe",
      changed_when: false,
      failed_when: false,
      check_mode: false,
      when: "virtio_fs_host_virtiofsd | length > 0",
    },
    {
      // The Rust virtiofsd prints "virtiofsd 1.13.2"; the C one "virtiofsd version 7.2.x ..." (no --readonly).
      name: "Record whether virtiofsd can serve a share read-only",
      "ansible.builtin.set_fact": {
        virtio_fs_host_virtiofsd_version_text:
          "{{ (virtio_fs_host_virtiofsd_probe.results[0].stdout | default('')) ~ (virtio_fs_host_virtiofsd_probe.results[0].stderr | default('')) }}",
        virtio_fs_host_virtiofsd_capabilities: "{{ virtio_fs_host_virtiofsd_probe.results[1].stdout | default('{}') }}",
        virtio_fs_host_virtiofsd_readonly:
          "{{ ((virtio_fs_host_virtiofsd_probe.results[0].stdout | default('')) | regex_search('^virtiofsd v?([0-9]+[.][0-9]+([.][0-9]+)?)[ \\t]*$', '\\1', multiline=True) or ['0.0']) | first is version('1.13', '>=') }}",
      },
    },
  ];
}

/** tasks/readonly_wrapper.yml: the wrapper and the file naming the virtiofsd it runs, root-owned. */
export function readonlyWrapperTasks(): unknown[] {
  return [
    {
      name: "Find virtiofsd for the wrapper",
      "ansible.builtin.include_tasks": { file: HOST_ROLE_TASK_FILES.virtiofsd.replace(/^tasks\//, "") },
      when: "virtio_fs_host_virtiofsd is not defined",
    },
    {
      name: "Require virtiofsd for the wrapper",
      "ansible.builtin.assert": {
        that: ["virtio_fs_host_virtiofsd | length > 0"],
        fail_msg:
          "the read-only wrapper runs virtiofsd, found at none of {{ virtio_fs_virtiofsd_candidates | join(', ') }}; install the package {{ virtio_fs_virtiofsd_package }} or set virtio_fs_virtiofsd_candidates",
        quiet: true,
      },
    },
    {
      name: "Create the wrapper's directory",
      "ansible.builtin.file": {
        path: "{{ virtio_fs_readonly_wrapper_path | dirname }}",
        state: "directory",
        owner: "root",
        group: "root",
        mode: "0755",
      },
    },
    {
      name: "Install the read-only virtiofsd wrapper",
      "ansible.builtin.copy": {
        src: READONLY_WRAPPER_FILE,
        dest: "{{ virtio_fs_readonly_wrapper_path }}",
        owner: "root",
        group: "root",
        mode: "0755",
      },
    },
    {
      name: "Name the virtiofsd the wrapper runs",
      "ansible.builtin.copy": {
        content: "{{ virtio_fs_host_virtiofsd }}\n",
        dest: "{{ virtio_fs_readonly_wrapper_path }}.conf",
        owner: "root",
        group: "root",
        mode: "0644",
      },
    },
  ];
}

export function hostTasks(ir: Ir): unknown[] {
  const fqcn = `${ir.collection.namespace}.${ir.collection.name}`;
  return [
    {
      name: "Choose the virtiofsd and QEMU paths and package names of this platform",
      "ansible.builtin.include_tasks": { file: ROLE_FILES.setVars.replace(/^tasks\//, "") },
    },
    {
      name: "Find virtiofsd and ask what it supports",
      "ansible.builtin.include_tasks": { file: HOST_ROLE_TASK_FILES.virtiofsd.replace(/^tasks\//, "") },
    },
    {
      name: "Check that QEMU is installed",
      "ansible.builtin.stat": { path: "{{ virtio_fs_qemu_path }}" },
      register: "virtio_fs_host_qemu",
    },
    {
      name: "Read the libvirt daemon version",
      block: [
        {
          name: "Ask virsh the libvirt daemon version",
          "ansible.builtin.command": {
            argv: ["virsh", "-c", "{{ virtio_fs_libvirt_uri }}", "version", "--daemon"],
          },
          register: "virtio_fs_host_virsh_version",
          changed_when: false,
          check_mode: false,
        },
      ],
      // a missing virsh or a stopped daemon would otherwise end the play with a bare command error
      rescue: [
        {
          name: "Report that libvirt cannot be asked",
          "ansible.builtin.fail": {
            msg: "virsh -c {{ virtio_fs_libvirt_uri }} version --daemon failed ({{ (ansible_failed_result.stderr | default('', true)) or ansible_failed_result.msg }}): virtio-fs needs the libvirt daemon running; on {{ ansible_facts.distribution | default('this host') }} {{ ansible_facts.distribution_major_version | default('') }} install the package {{ virtio_fs_libvirt_package }} and start libvirtd (or virtqemud)",
          },
        },
      ],
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
          "virtio_fs_host_virtiofsd | length > 0",
          "virtio_fs_host_qemu.stat.exists",
          "virtio_fs_host_libvirt_detected is version('6.2', '>=')",
        ],
        fail_msg: `virtio-fs needs virtiofsd at one of {{ virtio_fs_virtiofsd_candidates | join(', ') }} (found: {{ virtio_fs_host_virtiofsd or 'none' }}), {{ virtio_fs_qemu_path }} (found: {{ virtio_fs_host_qemu.stat.exists }}) and libvirt >= 6.2 (found: {{ virtio_fs_host_libvirt_detected }}); ${INSTALL_HINT}`,
        quiet: true,
      },
    },
    {
      name: "Choose how read-only shares are enforced",
      "ansible.builtin.set_fact": {
        virtio_fs_host_readonly_mechanism: RESOLVED_MECHANISM,
      },
    },
    {
      name: "Require libvirt 11.0 and a virtiofsd with --readonly for the readonly mechanism",
      "ansible.builtin.assert": {
        that: ["virtio_fs_host_libvirt_detected is version('11.0', '>=')", "virtio_fs_host_virtiofsd_readonly | bool"],
        fail_msg:
          "virtio_fs_readonly_mechanism readonly writes <readonly/>, which needs libvirt >= 11.0 (found: {{ virtio_fs_host_libvirt_detected }}) and a virtiofsd with --readonly, the Rust virtiofsd >= 1.13 ({{ virtio_fs_host_virtiofsd }}: {{ virtio_fs_host_virtiofsd_version_text }}); choose auto or wrapper",
        quiet: true,
      },
      when: ["virtio_fs_host_readonly_mechanism == 'readonly'", `(${RO_SHARES}) | length > 0`],
    },
    {
      name: "Warn that guest-only read-only shares are not protected by the host",
      "ansible.builtin.debug": {
        msg:
          "WARNING: virtio_fs_readonly_mechanism guest: shares {{ (" +
          RO_SHARES +
          ") | map(attribute='tag') | join(', ') }} are read-only in the guest only; guest root can remount them rw and write to the host directory",
      },
      when: ["virtio_fs_host_readonly_mechanism == 'guest'", `(${RO_SHARES}) | length > 0`],
    },
    {
      name: "Install the read-only virtiofsd wrapper",
      "ansible.builtin.include_tasks": { file: HOST_ROLE_TASK_FILES.readonlyWrapper.replace(/^tasks\//, "") },
      when: ["virtio_fs_host_readonly_mechanism == 'wrapper'", `(${RO_SHARES}) | length > 0`],
    },
    {
      name: "Apply the virtio-fs shares of each domain",
      [`${fqcn}.virtio_fs_domain`]: {
        name: "{{ item.name }}",
        uri: "{{ virtio_fs_libvirt_uri }}",
        mounts: "{{ item.mounts }}",
        // checked or created inside the module: no module execution per share (bench/host)
        host_dirs: "{{ 'create' if virtio_fs_host_create_dirs | bool else 'require' }}",
        dir_mode: "{{ virtio_fs_host_dir_mode }}",
        libvirt_version: "{{ virtio_fs_host_libvirt_detected }}",
        readonly_mechanism: "{{ virtio_fs_host_readonly_mechanism }}",
        readonly_wrapper_path: "{{ virtio_fs_readonly_wrapper_path }}",
        live_update: "{{ virtio_fs_host_live_update }}",
        restart_allowed: "{{ virtio_fs_host_restart_allowed }}",
        timeout: "{{ virtio_fs_host_domain_timeout }}",
        run_dir: "{{ virtio_fs_libvirt_run_dir }}",
      },
      timeout: MODULE_TASK_TIMEOUT,
      loop: "{{ virtio_fs_host_domains }}",
      loop_control: { label: "{{ item.name }}" },
      register: "virtio_fs_host_domain_results",
    },
    {
      name: "Report the shares whose virtiofsd is dead or serves a directory that is no longer host_path",
      "ansible.builtin.debug": {
        msg: "Domain {{ item.0.item.name }}, share {{ item.1.tag }}: {{ item.1.status }} ({{ item.1.detail }})",
      },
      loop: "{{ virtio_fs_host_domain_results.results | subelements('share_health', skip_missing=True) }}",
      loop_control: { label: "{{ item.0.item.name }} {{ item.1.tag }}" },
      when: "item.1.status not in ['ok', 'not attached', 'unknown']",
    },
    {
      name: "Report what changed on the running domains",
      "ansible.builtin.debug": {
        msg: "Domain {{ item.item.name }}: {{ item.msg }}",
      },
      loop: "{{ virtio_fs_host_domain_results.results }}",
      loop_control: { label: "{{ item.item.name }}" },
      when: "(item.live | default({})).values() | select | list | length > 0 or item.restarted | default(false)",
    },
    {
      name: "Report the domains that must be restarted",
      "ansible.builtin.debug": {
        msg: "Domain {{ item.item.name }} is running: restart it (destroy + start) to apply its virtio-fs changes: {{ item.msg }}",
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

${platformsSection(ir, role)}`;
  return new Map([
    [`${dir}/${ROLE_FILES.defaults}`, defaultsFile(ir, role)],
    [`${dir}/${ROLE_FILES.argumentSpecs}`, argumentSpecsFile(ir, role, { require: ["host_path"] })],
    [`${dir}/${ROLE_FILES.meta}`, metaMainFile(ir, role)],
    [`${dir}/${ROLE_FILES.tasks}`, yamlFile(ir, hostTasks(ir))],
    [`${dir}/${ROLE_FILES.setVars}`, yamlFile(ir, setVarsTasks(role))],
    ...[...platformVarsFiles(ir, role)].map(([file, text]): [string, string] => [`${dir}/${file}`, text]),
    [`${dir}/${HOST_ROLE_TASK_FILES.virtiofsd}`, yamlFile(ir, virtiofsdTasks())],
    [`${dir}/${HOST_ROLE_TASK_FILES.readonlyWrapper}`, yamlFile(ir, readonlyWrapperTasks())],
    [`${dir}/${ROLE_FILES.readme}`, readme],
    [collectionReadonlyWrapper(ir, role.name), readonlyWrapperScript(ir)],
  ]);
}
