import { diagnostic, pointerJoin, type Diagnostic } from "../errors/messages";
import type { Ir } from "../ir/types";
import { hypervisorsGroup, schemaField } from "../ir/lookup";
import { RESERVED_GROUPS, inventoryGroup, vmHypervisor } from "./inventory";
import type { VmConfig } from "./vm-config";

/** The schema's $defs/domain_name, the one rule for libvirt domain, cluster and VM names. */
interface NameRule {
  pattern: RegExp;
  minLength: number;
  maxLength: number;
  expected: string;
}

const rules = new WeakMap<Ir, NameRule>();

function nameRule(ir: Ir): NameRule {
  let rule = rules.get(ir);
  if (!rule) {
    const def = (ir.schema.$defs as Record<string, Record<string, unknown>>).domain_name;
    rule = {
      pattern: new RegExp(String(def.pattern), "u"),
      minLength: Number(def.minLength),
      maxLength: Number(def.maxLength),
      expected: String(def["x-expected"]),
    };
    rules.set(ir, rule);
  }
  return rule;
}

/** A cluster or VM name as the checks see it: where it is and what it is. */
export interface NamedVm {
  cluster: string;
  name: string;
  fullName: string;
  pointer: string;
}

function checkName(rule: NameRule, what: "cluster" | "VM", name: string, pointer: string): Diagnostic | undefined {
  const shown = JSON.stringify(name);
  if (name.length > rule.maxLength)
    return diagnostic("VFS029", pointer, { what, name: shown, max: rule.maxLength, length: name.length });
  if (name.length < rule.minLength || !rule.pattern.test(name))
    return diagnostic("VFS028", pointer, { what, name: shown, expected: rule.expected });
  return undefined;
}

/**
 * Cluster and VM names of a cluster configuration. They become the libvirt domain name
 * `<cluster>-<vm>` (XML, a virsh argument), the disk image file name and the inventory host name,
 * and the cluster becomes an Ansible group, so each must be a domain name by the schema's rule,
 * the full names must be distinct and fit the same rule, and no two clusters may share a group.
 * Diagnostics point at the offending key. Keys may be any string (`__proto__` included): only Maps.
 */
export function checkClusterNames(ir: Ir, clusters: string[], vms: NamedVm[]): Diagnostic[] {
  const rule = nameRule(ir);
  const out: Diagnostic[] = [];
  const badCluster = new Set<string>();
  const groups = new Map<string, string>();
  for (const cluster of clusters) {
    const pointer = pointerJoin("/clusters", cluster);
    const bad = checkName(rule, "cluster", cluster, pointer);
    if (bad) {
      out.push(bad);
      badCluster.add(cluster);
      continue;
    }
    const group = inventoryGroup(cluster);
    const first = groups.get(group);
    if (RESERVED_GROUPS.has(group)) out.push(diagnostic("VFS033", pointer, { name: JSON.stringify(cluster), group }));
    else if (group === hypervisorsGroup(ir))
      out.push(diagnostic("VFS039", pointer, { name: JSON.stringify(cluster), group }));
    else if (first !== undefined)
      out.push(diagnostic("VFS032", pointer, { name: JSON.stringify(cluster), group, other: first }));
    else groups.set(group, pointer);
  }
  const fullNames = new Map<string, string>();
  for (const vm of vms) {
    const bad = checkName(rule, "VM", vm.name, vm.pointer);
    if (bad) out.push(bad);
    if (bad || badCluster.has(vm.cluster)) continue;
    if (vm.fullName.length > rule.maxLength) {
      out.push(
        diagnostic("VFS030", vm.pointer, { name: vm.fullName, length: vm.fullName.length, max: rule.maxLength }),
      );
      continue;
    }
    const first = fullNames.get(vm.fullName);
    if (first !== undefined) out.push(diagnostic("VFS031", vm.pointer, { name: vm.fullName, other: first }));
    else fullNames.set(vm.fullName, vm.pointer);
  }
  return out;
}

/** Two entries of virtio_fs_host_domains for one domain would undo each other's devices. */
export function checkHostDomainNames(domains: unknown[], base: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, string>();
  domains.forEach((d, i) => {
    const name = d && typeof d === "object" ? (d as { name?: unknown }).name : undefined;
    if (typeof name !== "string") return;
    const pointer = pointerJoin(base, i, "name");
    const first = seen.get(name);
    if (first !== undefined)
      out.push(diagnostic("VFS034", pointer, { name: JSON.stringify(name), other: first.replace(/\/name$/, "") }));
    else seen.set(name, pointer);
  });
  return out;
}

/**
 * A hypervisor becomes an inventory host beside the VMs and the cluster groups. Ansible keeps one
 * namespace per kind but warns on, and then confuses, a host and a group of one name; a hypervisor
 * that is also a VM's host would take the VM's shares and run the guest role. Names that break the
 * name rule are reported by the schema (hypervisor is a $defs/domain_name) and not checked again.
 */
export function checkHypervisorNames(ir: Ir, vms: VmConfig[]): Diagnostic[] {
  const rule = nameRule(ir);
  const field = schemaField(ir, ir.clusterVm, "hypervisor").name;
  const groups = new Map<string, string>([...RESERVED_GROUPS].map((g) => [g, "Ansible's own"]));
  groups.set(hypervisorsGroup(ir), "the hypervisors");
  for (const vm of vms) {
    const group = inventoryGroup(vm.cluster);
    if (!groups.has(group)) groups.set(group, `the cluster at ${vm.pointer.split("/").slice(0, -1).join("/")}`);
  }
  const hosts = new Map(vms.map((vm) => [vm.fullName, vm.pointer]));
  const out: Diagnostic[] = [];
  for (const vm of vms) {
    const name = vmHypervisor(ir, vm);
    if (name.length > rule.maxLength || name.length < rule.minLength || !rule.pattern.test(name)) continue;
    const pointer = pointerJoin(vm.pointer, field);
    const shown = JSON.stringify(name);
    const vmAt = hosts.get(name);
    const groupOf = groups.get(name);
    if (vmAt !== undefined) out.push(diagnostic("VFS037", pointer, { name: shown, other: vmAt }));
    else if (groupOf !== undefined)
      out.push(diagnostic("VFS038", pointer, { name: shown, group: name, whose: groupOf }));
  }
  return out;
}
