import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { SEED_TEMPLATE, collectionTemplate } from "../layout";
import { domainTemplate } from "./template";

/** The libvirt domain template, in the seed-compatible tree and in the host role. */
export function emitLibvirt(ir: Ir): Outputs {
  const text = domainTemplate(ir);
  return new Map([
    [SEED_TEMPLATE, text],
    [collectionTemplate(ir, "virtio_fs_host"), text],
  ]);
}
