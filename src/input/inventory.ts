import * as jsyaml from "js-yaml";
import { toYaml } from "../emit/yaml";
import { hypervisorsGroup, schemaDefault, schemaField } from "../ir/lookup";
import type { Ir } from "../ir/types";
import type { VmConfig } from "./vm-config";

/**
 * The Ansible group of a cluster. Ansible accepts group names matching ^[A-Za-z_][A-Za-z0-9_]*$
 * (and silently rewrites others, see TRANSFORM_INVALID_GROUP_CHARS), so the mapping is done here,
 * deterministically: every other character becomes _, and a leading digit gets a _ in front
 * (Ansible would replace the digit itself, losing it). Distinct clusters can map to one group
 * (`a-b`, `a_b`); check-names.ts refuses that before an inventory is written.
 */
export function inventoryGroup(cluster: string): string {
  const group = cluster.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(group) ? `_${group}` : group;
}

/** Groups Ansible creates itself: a cluster must not become one of them. */
export const RESERVED_GROUPS: ReadonlySet<string> = new Set(["all", "ungrouped"]);

/** A string from the configuration: data, written with YAML's !unsafe tag so Ansible never templates it. */
class Unsafe {
  constructor(readonly value: string) {}
}

const UNSAFE = new jsyaml.Type("!unsafe", {
  kind: "scalar",
  instanceOf: Unsafe,
  represent: (u) => (u as Unsafe).value,
});

/** Every string in a configuration value, wrapped; keys stay plain (Ansible never templates keys). */
function unsafe(value: unknown): unknown {
  if (typeof value === "string") return new Unsafe(value);
  if (Array.isArray(value)) return value.map(unsafe);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(value)) out[k] = unsafe(v);
    return out;
  }
  return value;
}

/** The hypervisor a VM runs on: its hypervisor field, else the schema's default (the local machine). */
export function vmHypervisor(ir: Ir, vm: VmConfig): string {
  const value = vm.data[schemaField(ir, ir.clusterVm, "hypervisor").name];
  return typeof value === "string" ? value : String(schemaDefault(ir, ir.clusterVm, "hypervisor"));
}

/**
 * Connection variables of a hypervisor host. The default hypervisor is the machine Ansible runs on:
 * written as Ansible's implicit localhost is (local connection, the controller's own Python), since
 * an inventory that names localhost replaces the implicit one. Any other is reached like any host.
 */
function hypervisorConnection(ir: Ir, name: string): Record<string, unknown> {
  if (name !== schemaDefault(ir, ir.clusterVm, "hypervisor")) return {};
  return { ansible_connection: "local", ansible_python_interpreter: "{{ ansible_playbook_python }}" };
}

/**
 * An Ansible YAML inventory: a group per cluster, a host per VM with its shares as host vars, and the
 * hypervisors group, a host per hypervisor with virtio_fs_host_domains (its VMs that set
 * virtio_fs_mounts, with their shares) for the host role. Groups and hosts are keyed by names from the configuration, so the maps have no
 * prototype: a cluster named `__proto__` or `constructor` is a plain key.
 */
function buildInventory(ir: Ir, vms: VmConfig[]): Record<string, unknown> {
  const children = new Map<string, Record<string, Record<string, unknown>>>();
  const hypervisors = new Map<string, Record<string, unknown>[]>();
  const hostDomain = (n: string) => schemaField(ir, ir.hostDomain, n).name;
  const roleVariable = (n: string) => schemaField(ir, "role variables", n).name;
  for (const vm of vms) {
    const group = inventoryGroup(vm.cluster);
    let hosts = children.get(group);
    if (!hosts) children.set(group, (hosts = Object.create(null) as Record<string, Record<string, unknown>>));
    const hostVars: Record<string, unknown> = {};
    if (typeof vm.data.ip_address === "string") hostVars.ansible_host = unsafe(vm.data.ip_address);
    hostVars[roleVariable("virtio_fs_mounts")] = unsafe(vm.mounts);
    hosts[vm.fullName] = hostVars;
    // A VM that names no shares is left alone on its hypervisor: the host role would remove its devices.
    if (!Object.hasOwn(vm.data, roleVariable("virtio_fs_mounts"))) continue;
    const hypervisor = vmHypervisor(ir, vm);
    let domains = hypervisors.get(hypervisor);
    if (!domains) hypervisors.set(hypervisor, (domains = []));
    domains.push({ [hostDomain("name")]: unsafe(vm.fullName), [hostDomain("mounts")]: unsafe(vm.mounts) });
  }
  const hostsOfHypervisors: Record<string, unknown> = Object.create(null);
  for (const [name, domains] of hypervisors)
    hostsOfHypervisors[name] = {
      ...hypervisorConnection(ir, name),
      [roleVariable("virtio_fs_host_domains")]: domains,
    };
  const groups: Record<string, unknown> = Object.create(null);
  if (hypervisors.size) groups[hypervisorsGroup(ir)] = { hosts: hostsOfHypervisors };
  for (const [group, hosts] of children) groups[group] = { hosts };
  return { all: { children: groups } };
}

/** The inventory as YAML text, every configuration string tagged !unsafe. */
export function inventoryYaml(ir: Ir, vms: VmConfig[]): string {
  return `---\n${toYaml(buildInventory(ir, vms), [UNSAFE])}`;
}
