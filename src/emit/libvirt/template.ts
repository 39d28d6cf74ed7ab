import type { Ir } from "../../ir/types";
import { headerLine } from "../header";

/**
 * XML-escapes a Jinja expression with filters both Jinja2 and nunjucks implement identically
 * (their own `escape` filters differ on quotes), so one .j2 renders the same bytes in both.
 */
function x(expr: string): string {
  // TAB, LF and CR as character references: a parser turns them into spaces in an attribute value
  // (XML 1.0 section 3.3.3), and the virtio_fs_domain module writes them so
  return `{{ ${expr} | string | replace('&', '&amp;') | replace('<', '&lt;') | replace('>', '&gt;') | replace('"', '&quot;') | replace("'", '&apos;')`
    + ` | replace('\\t', '&#9;') | replace('\\n', '&#10;') | replace('\\r', '&#13;') }}`;
}

function set(v: string): string {
  return `${v} is defined and ${v}`;
}

/**
 * The complete libvirt domain. Rules that keep it one template for two engines: block tags start
 * at column 0 or sit inside a line (trim_blocks, which Ansible's template module turns on, eats the
 * newline after a tag), no `{% set %}` inside loops, no booleans printed, no engine-specific filters.
 */
export function domainTemplate(ir: Ir): string {
  const mounts = "virtio_fs_mounts | default([])";
  const binaryChildren = "mount.thread_pool_size is defined or (mount.cache is defined and mount.cache != 'auto')";
  const binaryNeeded = `mount.binary_path is defined or (mount.xattr is defined and mount.xattr) or ${binaryChildren}`;
  return `{# ${headerLine(ir)} -#}
{# Shares need shared guest memory: without memfd + shared access QEMU refuses vhost-user-fs. -#}
{# Only shares not absent count, as in the virtio_fs_domain module: one x per share, captured (empty: none). -#}
{% set virtio_fs_libvirt_major = (virtio_fs_libvirt_version | default('9.0.0') | string).split('.') | first | int %}
{% set virtio_fs_active_shares %}{% for mount in ${mounts} %}{% if mount.state | default('mounted') != 'absent' %}x{% endif %}{% endfor %}{% endset %}
<domain type='${x("vm_domain_type | default('kvm')")}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${x("vm_name")}</name>
  <memory unit='MiB'>{{ vm_memory_mb | default(2048) | int }}</memory>
  <vcpu placement='static'>{{ vm_cpu_cores | default(2) | int }}</vcpu>
{% if virtio_fs_active_shares %}
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
{% endif %}
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
{% if ${set("vm_kernel")} %}
    <kernel>${x("vm_kernel")}</kernel>
{% if ${set("vm_initrd")} %}
    <initrd>${x("vm_initrd")}</initrd>
{% endif %}
    <cmdline>${x("vm_cmdline | default('console=ttyS0 root=/dev/vda rw')")}</cmdline>
{% else %}
    <boot dev='hd'/>
{% endif %}
  </os>
  <features>
    <acpi/>
    <apic/>
{% if ${set("vm_tcg_tb_cache_mb")} and vm_domain_type | default('kvm') == 'qemu' %}
    <tcg>
      <tb-cache unit='MiB'>{{ vm_tcg_tb_cache_mb | int }}</tb-cache>
    </tcg>
{% endif %}
  </features>
{% if vm_domain_type | default('kvm') == 'kvm' %}
  <cpu mode='host-passthrough'/>
{% else %}
  <cpu mode='maximum'/>
{% endif %}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${x("vm_emulator | default('/usr/bin/qemu-system-x86_64')")}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${x("vm_disk_path")}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
{% for mount in ${mounts} %}
{% if mount.state | default('mounted') != 'absent' %}
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='{{ mount.queue_size | default(1024) | int }}'/>
{% if ${binaryNeeded} %}
      <binary{% if mount.binary_path is defined %} path='${x("mount.binary_path")}'{% endif %}{% if mount.xattr is defined and mount.xattr %} xattr='on'{% endif %}{% if ${binaryChildren} %}>
{% if mount.cache is defined and mount.cache == 'always' %}
        <cache mode='always'/>
{% elif mount.cache is defined and mount.cache == 'never' %}
        <cache mode='none'/>
{% endif %}
{% if mount.thread_pool_size is defined %}
        <thread_pool size='{{ mount.thread_pool_size | int }}'/>
{% endif %}
      </binary>
{% else %}/>
{% endif %}
{% endif %}
      <source dir='${x("mount.host_path")}'/>
      <target dir='${x("mount.tag")}'/>
{% if (mount.readonly | default(false)) and virtio_fs_libvirt_major >= 11 %}
      <readonly/>
{% endif %}
    </filesystem>
{% endif %}
{% endfor %}
{% if ${set("vm_network")} %}
    <interface type='network'>
      <source network='${x("vm_network")}'/>
      <model type='virtio'/>
    </interface>
{% endif %}
{% if ${set("vm_serial_log")} %}
    <serial type='file'>
      <source path='${x("vm_serial_log")}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='${x("vm_serial_log")}'/>
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
    <memballoon model='none'/>
  </devices>
{% if ${set("vm_ssh_forward_port")} %}
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='user,id=vfsnet0,restrict=on,hostfwd=tcp:127.0.0.1:{{ vm_ssh_forward_port | int }}-:22'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-net-pci,netdev=vfsnet0,bus=pcie.0,addr=0x10'/>
  </qemu:commandline>
{% endif %}
</domain>
`;
}
