import type { Ir } from "../../ir/types";
import { hypervisorsGroup, schemaDefault, schemaField } from "../../ir/lookup";
import type { Outputs } from "../outputs";
import { INVENTORY_PLUGIN, collectionInventoryPlugin } from "../layout";
import { hashHeader } from "../header";

/** A JSON string or list of strings is a Python literal too (ASCII only: the schema's names are), spaced as pep8 wants. */
function py(value: string | string[]): string {
  const text = Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]` : JSON.stringify(value);
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`not an ASCII literal: ${text}`);
  return text;
}

/**
 * The inventory plugin: the inventory `vfsgen inventory` writes, built by Ansible from the cluster
 * configuration itself. Every name, group and default it uses is written here from the schema, as
 * the TypeScript inventory reads them (src/input/inventory.ts); a test compares the two inventories.
 * It checks what the inventory needs (names, groups); `vfsgen validate` checks the rest.
 */
export function emitInventoryPlugin(ir: Ir): Outputs {
  const fqcn = `${ir.collection.namespace}.${ir.collection.name}.${INVENTORY_PLUGIN}`;
  const nameDef = (ir.schema.$defs as Record<string, Record<string, unknown>>).domain_name;
  const vmKeys = ir.clusterVm.fields.map((f) => f.name);
  const hypervisorKey = schemaField(ir, ir.clusterVm, "hypervisor").name;
  const text = `${hashHeader(ir)}# Copyright: ${ir.collection.authors.join(", ")}
# SPDX-License-Identifier: ${ir.collection.license}
from __future__ import annotations

DOCUMENTATION = r"""
name: ${INVENTORY_PLUGIN}
short_description: Inventory from a virtio-fs cluster configuration
description:
  - Reads a cluster configuration (C(clusters.<cluster>.<vm>)) and builds the inventory that
    C(vfsgen inventory) writes, without running vfsgen.
  - A group per cluster (its name with characters other than A-Z a-z 0-9 _ replaced by _), a host
    C(<cluster>-<vm>) per VM with C(ansible_host) from C(ip_address) and its C(${schemaField(ir, "role variables", "virtio_fs_mounts").name}).
  - The ${hypervisorsGroup(ir)} group, a host per hypervisor (the VM's C(${hypervisorKey}), default
    C(${String(schemaDefault(ir, ir.clusterVm, "hypervisor"))}) with a local connection) with
    C(${schemaField(ir, "role variables", "virtio_fs_host_domains").name}) listing its VMs that set shares, for the host role.
  - Every string from the file is data, never a template.
  - The file name must end in C(.vfs.yml) or C(.vfs.yaml). It checks names and groups only; run
    C(vfsgen validate) for every rule of the schema.
options:
  plugin:
    description: This plugin's name, so that Ansible's auto inventory plugin picks it.
    required: true
    type: str
    choices: [${fqcn}]
  clusters:
    description: Clusters by name, each a mapping of VMs by name (the cluster configuration).
    required: true
    type: dict
"""

EXAMPLES = r"""
# cluster.vfs.yml; then: ansible-inventory -i cluster.vfs.yml --list
plugin: ${fqcn}
clusters:
  hpc:
    controller:
      ip_address: 192.168.100.10
      virtio_fs_mounts:
        - tag: datasets
          host_path: /data/ml-datasets
          mount_point: /mnt/host-datasets
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.unsafe_proxy import wrap_var

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 templates every string that is not wrapped
    def trust_as_template(value):
        return value

NAME_PATTERN = re.compile(${py(String(nameDef.pattern))})
NAME_LENGTH = (${Number(nameDef.minLength)}, ${Number(nameDef.maxLength)})
VM_KEYS = frozenset(${py(vmKeys)})
HYPERVISOR_KEY = ${py(hypervisorKey)}
IP_ADDRESS_KEY = ${py(schemaField(ir, ir.clusterVm, "ip_address").name)}
DEFAULT_HYPERVISOR = ${py(String(schemaDefault(ir, ir.clusterVm, "hypervisor")))}
HYPERVISORS_GROUP = ${py(hypervisorsGroup(ir))}
RESERVED_GROUPS = frozenset(["all", "ungrouped", HYPERVISORS_GROUP])
MOUNTS_VAR = ${py(schemaField(ir, "role variables", "virtio_fs_mounts").name)}
HOST_DOMAINS_VAR = ${py(schemaField(ir, "role variables", "virtio_fs_host_domains").name)}
DOMAIN_NAME = ${py(schemaField(ir, ir.hostDomain, "name").name)}
DOMAIN_MOUNTS = ${py(schemaField(ir, ir.hostDomain, "mounts").name)}


def inventory_group(cluster):
    group = re.sub(r"[^A-Za-z0-9_]", "_", cluster)
    return "_" + group if re.match(r"[0-9]", group) else group


def check_name(what, name):
    if not isinstance(name, str) or not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1] or not NAME_PATTERN.match(name):
        raise AnsibleParserError("%s name %r is not valid (vfsgen validate says why)" % (what, name))
    return name


class InventoryModule(BaseInventoryPlugin):
    NAME = ${py(fqcn)}

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".vfs.yml", ".vfs.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        vms = []
        groups = {}
        for cluster, members in self.get_option("clusters").items():
            check_name("cluster", cluster)
            group = inventory_group(cluster)
            if group in RESERVED_GROUPS or group in groups:
                raise AnsibleParserError("cluster %r becomes the inventory group %r, which is taken" % (cluster, group))
            groups[group] = cluster
            if not isinstance(members, Mapping):
                continue
            for name, vm in members.items():
                if isinstance(vm, Mapping) and VM_KEYS.intersection(vm):
                    vms.append((group, "%s-%s" % (cluster, check_name("VM", name)), vm))
        hosts = set()
        for _group, host, _vm in vms:
            if host in hosts:
                raise AnsibleParserError("two VMs have the full name %r" % host)
            hosts.add(host)
        domains = {}
        for _group, host, vm in vms:
            hypervisor = check_name("hypervisor", vm.get(HYPERVISOR_KEY, DEFAULT_HYPERVISOR))
            if hypervisor in hosts or hypervisor in groups or hypervisor in RESERVED_GROUPS:
                raise AnsibleParserError("hypervisor %r is also a VM or a group" % hypervisor)
            if MOUNTS_VAR in vm:
                domains.setdefault(hypervisor, []).append({DOMAIN_NAME: host, DOMAIN_MOUNTS: vm[MOUNTS_VAR]})
        if domains:
            self.inventory.add_group(HYPERVISORS_GROUP)
        for hypervisor, hosted in domains.items():
            self.inventory.add_host(hypervisor, group=HYPERVISORS_GROUP)
            if hypervisor == DEFAULT_HYPERVISOR:
                self.inventory.set_variable(hypervisor, "ansible_connection", trust_as_template("local"))
                self.inventory.set_variable(
                    hypervisor, "ansible_python_interpreter", trust_as_template("{{ ansible_playbook_python }}")
                )
            self.inventory.set_variable(hypervisor, HOST_DOMAINS_VAR, wrap_var(hosted))
        for group, host, vm in vms:
            self.inventory.add_group(group)
            self.inventory.add_host(host, group=group)
            if isinstance(vm.get(IP_ADDRESS_KEY), str):
                self.inventory.set_variable(host, "ansible_host", wrap_var(vm[IP_ADDRESS_KEY]))
            self.inventory.set_variable(host, MOUNTS_VAR, wrap_var(vm.get(MOUNTS_VAR, [])))
`;
  return new Map([[collectionInventoryPlugin(ir), text]]);
}
