import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { SEED_PLAYBOOK, SEED_PLAYBOOK_ROLE_REF, collectionPlaybook } from "../layout";
import { yamlFile } from "../yaml";

/** The seed's "Applying to Running VMs" play: the guest role against VMs that already run. */
function runtimePlay(role: string): unknown[] {
  return [
    {
      name: "Configure virtio-fs shares on running VMs",
      hosts: "{{ virtio_fs_runtime_hosts | default('all') }}",
      become: true,
      gather_facts: false,
      vars: { packer_build: false, virtio_fs_perform_mounts: true },
      roles: [{ role }],
    },
  ];
}

const WHY = [
  "Shares come from inventory or extra vars (virtio_fs_mounts): they are not set here, because play vars",
  "would override the per-VM host vars that `vfsgen inventory` writes. Limit the hosts with",
  "-e virtio_fs_runtime_hosts=GROUP.",
].join("\n");

export function emitPlaybooks(ir: Ir): Outputs {
  return new Map([
    [
      collectionPlaybook(ir),
      yamlFile(ir, runtimePlay(`${ir.collection.namespace}.${ir.collection.name}.virtio_fs_mount`), WHY),
    ],
    [SEED_PLAYBOOK, yamlFile(ir, runtimePlay(SEED_PLAYBOOK_ROLE_REF), WHY)],
  ]);
}
