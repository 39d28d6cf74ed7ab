import * as jsyaml from "js-yaml";
import { toYaml } from "../emit/yaml";
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

/**
 * An Ansible YAML inventory: a group per cluster, a host per VM with its shares as host vars.
 * Groups and hosts are keyed by names from the configuration, so the maps have no prototype:
 * a cluster named `__proto__` or `constructor` is a plain key.
 */
function buildInventory(vms: VmConfig[]): Record<string, unknown> {
  const children = new Map<string, Record<string, Record<string, unknown>>>();
  for (const vm of vms) {
    const group = inventoryGroup(vm.cluster);
    let hosts = children.get(group);
    if (!hosts) children.set(group, (hosts = Object.create(null) as Record<string, Record<string, unknown>>));
    const hostVars: Record<string, unknown> = {};
    if (typeof vm.data.ip_address === "string") hostVars.ansible_host = unsafe(vm.data.ip_address);
    hostVars.virtio_fs_mounts = unsafe(vm.mounts);
    hosts[vm.fullName] = hostVars;
  }
  const groups: Record<string, unknown> = Object.create(null);
  for (const [group, hosts] of children) groups[group] = { hosts };
  return { all: { children: groups } };
}

/** The inventory as YAML text, every configuration string tagged !unsafe. */
export function inventoryYaml(vms: VmConfig[]): string {
  return `---\n${toYaml(buildInventory(vms), [UNSAFE])}`;
}
