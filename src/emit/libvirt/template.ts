import type { FieldIr, Ir } from "../../ir/types";
import { schemaDefault, schemaField } from "../../ir/lookup";
import { headerLine } from "../header";

/**
 * The one XML-escaping step, a macro: filters both Jinja2 and nunjucks implement identically (their
 * own `escape` filters differ on quotes), so one .j2 renders the same bytes in both. TAB, LF and CR
 * become character references: a parser turns them into spaces in an attribute value (XML 1.0
 * section 3.3.3), and the virtio_fs_domain module writes them so.
 */
const XML_MACRO =
  `{% macro xml(value) %}{{ value | string | replace('&', '&amp;') | replace('<', '&lt;') | replace('>', '&gt;')` +
  ` | replace('"', '&quot;') | replace("'", '&apos;') | replace('\\t', '&#9;') | replace('\\n', '&#10;') | replace('\\r', '&#13;') }}{% endmacro %}`;

/** A schema value as a Jinja literal both engines read alike (single-quoted strings, plain numbers, lists of those). */
function lit(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string" && !/['\\\n\r{}%#]/.test(v)) return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(lit).join(", ")}]`;
  throw new Error(`the domain template cannot write the schema value ${JSON.stringify(v)} as a Jinja literal`);
}

/**
 * The complete libvirt domain. Rules that keep it one template for two engines: block tags start
 * at column 0 or sit inside a line (trim_blocks, which Ansible's template module turns on, eats the
 * newline after a tag), no `{% set %}` inside loops, no booleans printed, no engine-specific filters.
 */
export function domainTemplate(ir: Ir): string {
  // Every variable, share field, default and enum value comes from the IR: a field renamed in the
  // schema follows through, and one the template needs but the schema lost stops generation.
  const role = (n: string) => schemaField(ir, "role variables", n).name;
  const vm = (n: string) => schemaField(ir, ir.domainTemplate, n).name;
  const vmOr = (n: string) => `${vm(n)} | default(${lit(schemaDefault(ir, ir.domainTemplate, n))})`;
  const m = (n: string) => `mount.${schemaField(ir, ir.share, n).name}`;
  const mOr = (n: string) => `${m(n)} | default(${lit(schemaDefault(ir, ir.share, n))})`;
  const is = (field: FieldIr, value: string) => {
    if (!field.enum?.includes(value))
      throw new Error(`the domain template tests ${field.name} for ${value}, which its schema enum does not list`);
    return lit(value);
  };
  const state = schemaField(ir, ir.share, "state");
  const cache = schemaField(ir, ir.share, "cache");
  const domainType = schemaField(ir, ir.domainTemplate, "vm_domain_type");
  const x = (expr: string) => `{{ xml(${expr}) }}`;
  const set = (v: string) => `${v} is defined and ${v}`;
  const mounts = `${role("virtio_fs_mounts")} | default([])`;
  const notAbsent = `${mOr("state")} != ${is(state, "absent")}`;
  const mechanism = schemaField(ir, "role variables", "virtio_fs_readonly_mechanism");
  const mechanismOr = `${role("virtio_fs_readonly_mechanism")} | default(${lit(schemaDefault(ir, "role variables", "virtio_fs_readonly_mechanism"))})`;
  const wrapperOr = `${role("virtio_fs_readonly_wrapper_path")} | default(${lit(schemaDefault(ir, "role variables", "virtio_fs_readonly_wrapper_path"))})`;
  // auto resolves as resolveReadonlyMechanism does in the virtio_fs_domain module
  const roBy = (value: string) => `(${mOr("readonly")}) and virtio_fs_readonly_mechanism == ${is(mechanism, value)}`;
  const binaryChildren = `${m("thread_pool_size")} is defined or (${m("cache")} is defined and ${m("cache")} != ${is(cache, "auto")})`;
  const binaryNeeded = `(${roBy("wrapper")}) or ${m("binary_path")} is defined or (${m("xattr")} is defined and ${m("xattr")}) or ${binaryChildren}`;
  const libvirtVersion = `${role("virtio_fs_libvirt_version")} | default(${lit(schemaDefault(ir, "role variables", "virtio_fs_libvirt_version"))})`;
  return `{# ${headerLine(ir)} -#}
{# Shares need shared guest memory: without memfd + shared access QEMU refuses vhost-user-fs. -#}
{# Only shares not absent count, as in the virtio_fs_domain module: one x per share, captured (empty: none). -#}
{# xml(value): the value as XML text, safe in an attribute or an element. -#}
{# Hot-plug: libvirt puts devices defined without an address on free root ports first, so one root port -#}
{# per PCIe device here (disk, the USB controller libvirt adds, NIC, each share) plus vm_pcie_hotplug_ports spare. -#}
{# Read-only shares: <readonly/> (libvirt >= 11), the virtiofsd wrapper as <binary path>, or guest-only (auto: by libvirt version). -#}
${XML_MACRO}
{% set virtio_fs_libvirt_major = (${libvirtVersion} | string).split('.') | first | int %}
{% set virtio_fs_readonly_mechanism = ${mechanismOr} %}
{% if virtio_fs_readonly_mechanism == ${is(mechanism, "auto")} and virtio_fs_libvirt_major >= 11 %}{% set virtio_fs_readonly_mechanism = ${is(mechanism, "readonly")} %}{% elif virtio_fs_readonly_mechanism == ${is(mechanism, "auto")} %}{% set virtio_fs_readonly_mechanism = ${is(mechanism, "wrapper")} %}{% endif %}
{% set virtio_fs_active_shares %}{% for mount in ${mounts} %}{% if ${notAbsent} %}x{% endif %}{% endfor %}{% endset %}
{% set virtio_fs_pcie_root_ports = (${vmOr("vm_pcie_hotplug_ports")} | int) + 2 + ((virtio_fs_active_shares or '') | length) + (1 if ${set(vm("vm_network"))} else 0) %}
<domain type='${x(vmOr("vm_domain_type"))}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${x(vm("vm_name"))}</name>
  <memory unit='MiB'>{{ ${vmOr("vm_memory_mb")} | int }}</memory>
  <vcpu placement='static'>{{ ${vmOr("vm_cpu_cores")} | int }}</vcpu>
{% if virtio_fs_active_shares %}
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
{% endif %}
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
{% if ${set(vm("vm_kernel"))} %}
    <kernel>${x(vm("vm_kernel"))}</kernel>
{% if ${set(vm("vm_initrd"))} %}
    <initrd>${x(vm("vm_initrd"))}</initrd>
{% endif %}
    <cmdline>${x(vmOr("vm_cmdline"))}</cmdline>
{% else %}
    <boot dev='hd'/>
{% endif %}
  </os>
  <features>
    <acpi/>
    <apic/>
{% if ${set(vm("vm_tcg_tb_cache_mb"))} and ${vmOr("vm_domain_type")} == ${is(domainType, "qemu")} %}
    <tcg>
      <tb-cache unit='MiB'>{{ ${vm("vm_tcg_tb_cache_mb")} | int }}</tb-cache>
    </tcg>
{% endif %}
  </features>
{% if ${vmOr("vm_domain_type")} == ${is(domainType, "kvm")} %}
  <cpu mode='host-passthrough'/>
{% elif ${vmOr("vm_tcg_cpu_features_disabled")} | length > 0 %}
  <cpu mode='maximum'>
{% for feature in ${vmOr("vm_tcg_cpu_features_disabled")} %}
    <feature policy='disable' name='${x("feature")}'/>
{% endfor %}
  </cpu>
{% else %}
  <cpu mode='maximum'/>
{% endif %}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${x(vmOr("vm_emulator"))}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${x(vm("vm_disk_path"))}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
{% for mount in ${mounts} %}
{% if ${notAbsent} %}
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='{{ ${mOr("queue_size")} | int }}'/>
{% if ${binaryNeeded} %}
      <binary{% if ${roBy("wrapper")} %} path='${x(wrapperOr)}'{% elif ${m("binary_path")} is defined %} path='${x(m("binary_path"))}'{% endif %}{% if ${m("xattr")} is defined and ${m("xattr")} %} xattr='on'{% endif %}{% if ${binaryChildren} %}>
{% if ${m("cache")} is defined and ${m("cache")} == ${is(cache, "always")} %}
        <cache mode='always'/>
{% elif ${m("cache")} is defined and ${m("cache")} == ${is(cache, "never")} %}
        <cache mode='none'/>
{% endif %}
{% if ${m("thread_pool_size")} is defined %}
        <thread_pool size='{{ ${m("thread_pool_size")} | int }}'/>
{% endif %}
      </binary>
{% else %}/>
{% endif %}
{% endif %}
      <source dir='${x(m("host_path"))}'/>
      <target dir='${x(m("tag"))}'/>
{% if ${roBy("readonly")} %}
      <readonly/>
{% endif %}
    </filesystem>
{% endif %}
{% endfor %}
{% if ${set(vm("vm_network"))} %}
    <interface type='network'>
      <source network='${x(vm("vm_network"))}'/>
      <model type='virtio'/>
    </interface>
{% endif %}
{% if ${set(vm("vm_serial_log"))} %}
    <serial type='file'>
      <source path='${x(vm("vm_serial_log"))}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='${x(vm("vm_serial_log"))}'/>
      <target type='serial' port='0'/>
    </console>
{% else %}
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
{% endif %}
{% for port in range(virtio_fs_pcie_root_ports | int) %}
{% if loop.first %}
    <controller type='pci' index='0' model='pcie-root'/>
{% endif %}
    <controller type='pci' model='pcie-root-port'/>
{% endfor %}
    <memballoon model='none'/>
  </devices>
{% if ${set(vm("vm_ssh_forward_port"))} %}
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='user,id=vfsnet0,restrict=on,hostfwd=tcp:127.0.0.1:{{ ${vm("vm_ssh_forward_port")} | int }}-:22'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-net-pci,netdev=vfsnet0,bus=pcie.0,addr=0x10'/>
  </qemu:commandline>
{% endif %}
</domain>
`;
}
