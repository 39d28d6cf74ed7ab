import type { ErrorObject } from "ajv";
import { diagnostic, pointerJoin, type Diagnostic, type MessageCode } from "../errors/messages";
import { formatAjvErrors } from "../errors/ajv-format";
import { configValidators, type ConfigValidators } from "../ir/config-validators";
import type { Ir } from "../ir/types";
import { parseSource, pointerAt, type SourceDocument } from "./source-map";
import { checkShares, refusedOperations, type ShareInput } from "../runtime/check-shares";
import { splitOptions } from "../runtime/mount-options";
import { readConfigFile } from "./read-config";
import { MAX_CONFIG_BYTES } from "./limits";
import { checkClusterNames, checkHostDomainNames, checkHypervisorNames } from "./check-names";
import type { VmConfig } from "./vm-config";

export type { VmConfig };

export interface ValidatedConfig {
  file: string;
  kind: "cluster" | "vars" | "unknown";
  vms: VmConfig[];
  data?: unknown;
  diagnostics: Diagnostic[];
}

/** Problems with a key itself (an unknown or badly named member) are located at the key, not its value. */
const AT_KEY: ReadonlySet<MessageCode> = new Set([
  "VFS010",
  "VFS016",
  "VFS017",
  "VFS028",
  "VFS029",
  "VFS030",
  "VFS031",
  "VFS032",
  "VFS033",
  "VFS039",
]);

interface Validators extends ConfigValidators {
  octalPattern: string;
  knownVars: string[];
  /** The keys a VM of a cluster configuration is known by (the schema's cluster_vm properties). */
  vmKeys: string[];
}

const cache = new WeakMap<Ir, Validators>();

function validators(ir: Ir): Validators {
  let v = cache.get(ir);
  if (!v) {
    const defs = ir.schema.$defs as Record<string, { pattern?: string; properties?: Record<string, unknown> }>;
    v = {
      ...configValidators(ir),
      octalPattern: String(defs.octal_mode.pattern),
      knownVars: ir.roleVariables.map((f) => f.name),
      vmKeys: Object.keys(defs.cluster_vm.properties ?? {}),
    };
    cache.set(ir, v);
  }
  return v;
}

function schemaDiagnostics(
  errors: ErrorObject[] | null | undefined,
  base: string,
  v: Validators,
  doc: SourceDocument,
): Diagnostic[] {
  return formatAjvErrors(errors).map((violation) => {
    const pointer = base + violation.pointer;
    const raw = violation.error;
    const parent = raw.parentSchema as { pattern?: string } | undefined;
    if (violation.keyword === "type" && typeof raw.data === "number" && parent?.pattern === v.octalPattern) {
      return diagnostic("VFS015", pointer, { value: doc.raw(pointer) ?? String(raw.data), number: String(raw.data) });
    }
    return diagnostic(violation.code, pointer, violation.params);
  });
}

/** Edit distance, or Infinity when the lengths alone rule out a near miss (keys can be megabytes long). */
function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/**
 * The known key a key is a misspelling of: equal once case and - are folded, or at most two edits
 * away. Far-off keys are the seed's own VM settings (base_image_path, ...) and are left alone.
 */
function nearMiss(key: string, known: string[]): string | undefined {
  if (known.includes(key)) return undefined;
  const folded = key.toLowerCase().replace(/-/g, "_");
  const best = known.map((n) => [n, levenshtein(folded, n)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? best[0] : undefined;
}

/**
 * A cluster member is a VM when it has a known VM key, or a key that looks like one (a near miss, or
 * virtio_fs_*): a VM whose only key is misspelled must be reported, not skipped as "not a VM".
 */
function looksLikeVm(member: Record<string, unknown>, v: Validators): boolean {
  return Object.keys(member).some(
    (k) => v.vmKeys.includes(k) || k.startsWith("virtio_fs") || nearMiss(k, v.vmKeys) !== undefined,
  );
}

/** Misspelled VM keys (virtio_fs_* keys are role variables, judged by unknownVars). */
function unknownVmKeys(vm: Record<string, unknown>, base: string, v: Validators): Diagnostic[] {
  return Object.keys(vm)
    .filter((k) => !k.startsWith("virtio_fs_"))
    .flatMap((k) => {
      const best = nearMiss(k, v.vmKeys);
      return best ? [diagnostic("VFS017", pointerJoin(base, k), { name: k, best, known: v.vmKeys.join(", ") })] : [];
    });
}

function unknownVars(data: Record<string, unknown>, base: string, v: Validators): Diagnostic[] {
  return Object.keys(data)
    .filter((k) => k.startsWith("virtio_fs_") && !v.knownVars.includes(k))
    .map((k) => {
      const best = v.knownVars.map((n) => [n, levenshtein(k, n)] as const).sort((a, b) => a[1] - b[1])[0];
      return diagnostic("VFS016", pointerJoin(base, k), {
        name: k,
        hint: best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : "",
      });
    });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Validates one configuration: schema first, then the cross-share rules, all problems at once. */
function validateDocument(doc: SourceDocument, ir: Ir): ValidatedConfig {
  const v = validators(ir);
  const data = doc.data;
  const diagnostics: Diagnostic[] = [];
  const vms: VmConfig[] = [];
  let kind: ValidatedConfig["kind"] = "unknown";

  if (isObject(data) && "clusters" in data) {
    kind = "cluster";
    if (!v.cluster(data)) diagnostics.push(...schemaDiagnostics(v.cluster.errors, "", v, doc));
    const clusters = isObject(data.clusters) ? data.clusters : {};
    for (const [cluster, members] of Object.entries(clusters)) {
      if (!isObject(members)) continue;
      for (const [name, vm] of Object.entries(members)) {
        if (!isObject(vm) || !looksLikeVm(vm, v)) continue;
        const pointer = pointerJoin("/clusters", cluster, name);
        if (!v.vm(vm)) diagnostics.push(...schemaDiagnostics(v.vm.errors, pointer, v, doc));
        diagnostics.push(...unknownVars(vm, pointer, v), ...unknownVmKeys(vm, pointer, v));
        const mounts = Array.isArray(vm.virtio_fs_mounts) ? (vm.virtio_fs_mounts as ShareInput[]) : [];
        diagnostics.push(...checkShares(mounts, pointerJoin(pointer, "virtio_fs_mounts"), true));
        vms.push({ cluster, name, fullName: `${cluster}-${name}`, pointer, data: vm, mounts });
      }
    }
    diagnostics.push(...checkClusterNames(ir, Object.keys(clusters), vms), ...checkHypervisorNames(ir, vms));
  } else if (isObject(data) && Object.keys(data).some((k) => k.startsWith("virtio_fs_") || k === "packer_build")) {
    kind = "vars";
    if (!v.vars(data)) diagnostics.push(...schemaDiagnostics(v.vars.errors, "", v, doc));
    diagnostics.push(...unknownVars(data, "", v));
    const mounts = Array.isArray(data.virtio_fs_mounts) ? (data.virtio_fs_mounts as ShareInput[]) : [];
    // Guest-side runtime vars may omit host_path (the seed's runtime playbook does).
    diagnostics.push(...checkShares(mounts, "/virtio_fs_mounts", false));
    if (typeof data.virtio_fs_default_options === "string") {
      for (const option of refusedOperations(splitOptions(data.virtio_fs_default_options))) {
        diagnostics.push(diagnostic("VFS036", "/virtio_fs_default_options", { option }));
      }
    }
    if (Array.isArray(data.virtio_fs_host_domains)) {
      data.virtio_fs_host_domains.forEach((d, i) => {
        if (isObject(d) && Array.isArray(d.mounts))
          diagnostics.push(
            ...checkShares(d.mounts as ShareInput[], pointerJoin("/virtio_fs_host_domains", i, "mounts"), true),
          );
      });
      diagnostics.push(...checkHostDomainNames(data.virtio_fs_host_domains, "/virtio_fs_host_domains"));
    }
    vms.push({ cluster: "", name: "vm", fullName: "vm", pointer: "", data, mounts });
  } else {
    diagnostics.push(diagnostic("VFS003", ""));
  }

  for (const d of diagnostics) {
    const pos = doc.locate(d.pointer, AT_KEY.has(d.code));
    Object.assign(d, { file: doc.file, line: pos.line, col: pos.col });
  }
  diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { file: doc.file, kind, vms, data, diagnostics };
}

function validateText(file: string, text: string, ir: Ir): ValidatedConfig {
  const parsed = parseSource(file, text);
  if (!parsed.doc) return { file, kind: "unknown", vms: [], diagnostics: parsed.diagnostics };
  return validateDocument(parsed.doc, ir);
}

export function validateFile(file: string, ir: Ir): ValidatedConfig {
  const read = readConfigFile(file);
  if ("text" in read) return validateText(file, read.text, ir);
  const d =
    read.problem === "size"
      ? diagnostic("VFS007", "", { limit: `${MAX_CONFIG_BYTES} bytes (${MAX_CONFIG_BYTES / 1024 / 1024} MiB)` })
      : read.problem === "utf8"
        ? diagnostic("VFS004", "", { byte: read.byte.toString(16).toUpperCase().padStart(2, "0"), offset: read.offset })
        : diagnostic("VFS002", "", { detail: read.detail });
  if (read.problem !== "utf8")
    return { file, kind: "unknown", vms: [], diagnostics: [{ ...d, file, line: 1, col: 1 }] };
  // where the bad byte sits in the document, read with the byte replaced
  const pointer = pointerAt(read.lossyText, read.lossyOffset);
  return { file, kind: "unknown", vms: [], diagnostics: [{ ...d, pointer, file, line: read.line, col: read.col }] };
}
