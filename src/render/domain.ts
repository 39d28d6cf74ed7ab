import * as nunjucks from "nunjucks";
import type { Ir } from "../ir/types";
import type { VmConfig } from "../input/validate";
import { domainTemplate } from "../emit/libvirt/template";

/** Ansible's template module renders with trim_blocks on and autoescape off; so must we. */
const env = new nunjucks.Environment(null, { autoescape: false, trimBlocks: true, lstripBlocks: false });

// Compiling the template costs far more than rendering it; `vfsgen render` renders it once per VM.
const compiled = new Map<string, nunjucks.Template>();

export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  let t = compiled.get(template);
  if (!t) {
    t = nunjucks.compile(template, env);
    compiled.set(template, t);
  }
  return t.render(vars);
}

export interface RenderOptions {
  domainType?: "kvm" | "qemu";
  libvirtVersion?: string;
  imageDir?: string;
}

/** Template variables of one VM of a cluster configuration. */
export function domainVars(vm: VmConfig, opts: RenderOptions = {}): Record<string, unknown> {
  const d = vm.data;
  const vars: Record<string, unknown> = {
    vm_name: vm.fullName,
    vm_domain_type: opts.domainType ?? "kvm",
    vm_cpu_cores: typeof d.cpu_cores === "number" ? d.cpu_cores : 2,
    vm_memory_mb: Math.round((typeof d.memory_gb === "number" ? d.memory_gb : 2) * 1024),
    vm_disk_path: `${opts.imageDir ?? "/var/lib/libvirt/images"}/${vm.fullName}.qcow2`,
    virtio_fs_mounts: vm.mounts,
    virtio_fs_libvirt_version: opts.libvirtVersion ?? "9.0.0",
  };
  return vars;
}

export function renderDomain(ir: Ir, vm: VmConfig, opts: RenderOptions = {}): string {
  return renderTemplate(domainTemplate(ir), domainVars(vm, opts));
}
