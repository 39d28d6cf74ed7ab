import type { ShareInput } from "../runtime/check-shares";

/** One VM of a cluster configuration, or the single implicit VM of a vars file. */
export interface VmConfig {
  cluster: string;
  name: string;
  /** `<cluster>-<vm>`: the libvirt domain name and inventory host name. */
  fullName: string;
  pointer: string;
  data: Record<string, unknown>;
  mounts: ShareInput[];
}
