import type { VmConfig } from "./validate";

/** An Ansible YAML inventory: a group per cluster, a host per VM with its shares as host vars. */
export function buildInventory(vms: VmConfig[]): Record<string, unknown> {
  const children: Record<string, { hosts: Record<string, Record<string, unknown>> }> = {};
  for (const vm of vms) {
    // Ansible group names must be identifiers.
    const group = vm.cluster.replace(/[^A-Za-z0-9_]/g, "_");
    children[group] ??= { hosts: {} };
    const hostVars: Record<string, unknown> = {};
    if (typeof vm.data.ip_address === "string") hostVars.ansible_host = vm.data.ip_address;
    hostVars.virtio_fs_mounts = vm.mounts;
    children[group].hosts[vm.fullName] = hostVars;
  }
  return { all: { children } };
}
