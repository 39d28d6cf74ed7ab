import type { Ir } from "../../ir/types";
import { hypervisorsGroup } from "../../ir/lookup";
import type { Outputs } from "../outputs";
import { SEED_PLAYBOOK, SEED_PLAYBOOK_ROLE_REF, collectionClusterPlaybook, collectionPlaybook } from "../layout";
import { yamlFile } from "../yaml";

/** A role of the collection by its side, as a fully qualified name. */
function roleFqcn(ir: Ir, side: "guest" | "host"): string {
  const role = ir.roles.find((r) => r.side === side);
  if (!role) throw new Error(`collection.json lists no ${side} role`);
  return `${ir.collection.namespace}.${ir.collection.name}.${role.name}`;
}

/**
 * The guest play's hosts: every host but the hypervisors of a `vfsgen inventory` (the guest role must
 * not run on them). The group is excluded only when the inventory has it: Ansible warns about an
 * exclusion that matches nothing, and hand-written inventories have no such group.
 */
function guestHosts(ir: Ir): string {
  const group = hypervisorsGroup(ir);
  return `{{ virtio_fs_runtime_hosts | default('all:!${group}' if '${group}' in groups else 'all') }}`;
}

/** The seed's "Applying to Running VMs" play: the guest role against VMs that already run. */
function runtimePlay(ir: Ir, role: string): Record<string, unknown> {
  return {
    name: "Configure virtio-fs shares on running VMs",
    hosts: guestHosts(ir),
    become: true,
    gather_facts: false,
    vars: { packer_build: false, virtio_fs_perform_mounts: true },
    roles: [{ role }],
  };
}

/** The host role on every hypervisor of the inventory, each with its VMs' domains (virtio_fs_host_domains). */
function hypervisorsPlay(ir: Ir): Record<string, unknown> {
  return {
    name: "Offer the virtio-fs shares of their VMs on the hypervisors",
    hosts: hypervisorsGroup(ir),
    become: true,
    gather_facts: false,
    roles: [{ role: roleFqcn(ir, "host") }],
  };
}

const WHY = [
  "Shares come from inventory or extra vars (virtio_fs_mounts): they are not set here, because play vars",
  "would override the per-VM host vars that `vfsgen inventory` writes. Limit the hosts with",
  "-e virtio_fs_runtime_hosts=GROUP.",
].join("\n");

function clusterWhy(ir: Ir): string {
  return [
    "For an inventory written by `vfsgen inventory`: the host role on the hypervisors (group",
    `${hypervisorsGroup(ir)}, virtio_fs_host_domains), then the guest role on the VMs, in one run. Plays run`,
    "in order, so every domain offers its shares before a guest mounts them; a domain that was already",
    "running when the host role added a share must be restarted first (the host role says which).",
    WHY,
  ].join("\n");
}

export function emitPlaybooks(ir: Ir): Outputs {
  const guestRole = roleFqcn(ir, "guest");
  return new Map([
    [collectionPlaybook(ir), yamlFile(ir, [runtimePlay(ir, guestRole)], WHY)],
    [collectionClusterPlaybook(ir), yamlFile(ir, [hypervisorsPlay(ir), runtimePlay(ir, guestRole)], clusterWhy(ir))],
    [SEED_PLAYBOOK, yamlFile(ir, [runtimePlay(ir, SEED_PLAYBOOK_ROLE_REF)], WHY)],
  ]);
}
