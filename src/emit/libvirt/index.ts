import type { Ir } from "../../ir/types";
import type { Outputs } from "../../write/write-files";
import { TEMPLATE_NAME, domainTemplate } from "./template";

/** The libvirt domain template, in the seed-compatible tree and in the host role. */
export function emitLibvirt(ir: Ir): Outputs {
  const text = domainTemplate(ir);
  return new Map([
    [`generated/templates/${TEMPLATE_NAME}`, text],
    [`collection/ansible_collections/${ir.collection.namespace}/${ir.collection.name}/roles/virtio_fs_host/templates/${TEMPLATE_NAME}`, text],
  ]);
}
