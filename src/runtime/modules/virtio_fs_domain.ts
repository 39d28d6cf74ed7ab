/*
 * virtio_fs_domain (host side): makes a libvirt domain's virtiofs <filesystem> devices exactly the
 * shares in mounts (matched by <target dir> = tag; shares with state absent are removed) and, when at
 * least one share is wanted, makes the guest memory shared as libvirt requires for virtio-fs.
 * Other filesystems (9p, ...) and everything else in the XML are left alone; devices are edited in
 * place so libvirt's <alias> and <address> children survive.
 *
 * Shared memory (the decision, in domain-xml.ts ensureSharedMemory): the module agrees with libvirt's
 * own check (src/qemu/qemu_validate.c). A backing that is already shared (memfd, file, hugepages,
 * anonymous with <access mode='shared'/>, or every NUMA cell memAccess='shared') is kept as it is.
 * Missing access is added (<source type='memfd'/> too when the domain names no backing). An explicit
 * private access, domain-level or a NUMA cell's memAccess (which overrides the domain-level one), is
 * refused with a message: the module never reports "configured" for a domain libvirt would not start.
 *
 * What is read and written: a byte order mark is kept; a DOCTYPE (entities) is refused, nothing is
 * expanded; invalid UTF-8 and characters XML 1.0 cannot carry are refused, in the file and in the
 * values written (tag, host_path, binary_path); the result is parsed again before it is written.
 * virsh gets options as --name=value tokens, so no name is read as an option, and the domain is
 * checked to be the one named (virsh reads a numeric name as a domain id first).
 * Test hook (src/runtime/env-hooks.ts): VIRTIO_FS_BIN_DIR holds virsh.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shareProblems } from "../check-shares";
import type { VirtioFsDomainArgs } from "../generated/types";
import { ModuleFailure, type ModuleContext, type ModuleResult } from "../ansible";
import { writeFileAtomic } from "../atomic-write";
import {
  addFilesystem,
  deviceSpec,
  resolveReadonlyMechanism,
  type ReadonlyMechanism,
  type DeviceSpec,
  DomainXmlError,
  domainDevices,
  elementChildren,
  ensureSharedMemory,
  filesystemTag,
  firstChild,
  hasBom,
  isVirtiofsFilesystem,
  parseVersion,
  parseXml,
  removeFormatted,
  serializeXml,
  syncFilesystem,
  versionAtLeast,
  type XDocument,
  type XElement,
} from "../domain-xml";
import { describeFailure, run } from "../exec";
import { applyLive, planLive, restartDomain, type LiveOutcome, type LivePlan } from "../domain-live";
import type { ShareHealth } from "../virtiofsd-health";
import { xmlCharProblem } from "../xml-chars";
import { filled, type Fallbacks } from "../schema-defaults";
import { ensureHostDirs } from "../host-dirs";

/** libvirt_version when it is unset and cannot be asked from virsh (the role variable's default). */
export type DomainFallbacks = Fallbacks<"libvirt_version">;

export interface DomainEdit {
  xml: string;
  added: string[];
  updated: string[];
  removed: string[];
  memoryBackingChanged: boolean;
  /** What the operator should know about how read-only shares are enforced. */
  warnings: string[];
  /** The devices of the wanted shares, as written (what a hot-plug attaches). */
  specs: DeviceSpec[];
}

/** The share fields the module writes into the domain XML. */
const XML_FIELDS = ["tag", "host_path", "binary_path"] as const;

/** A domain XML file larger than this is refused (libvirt's own are a few kilobytes). */
const MAX_XML_BYTES = 16 * 1024 * 1024;

/** Checks the schema cannot express (the rules `vfsgen validate` applies to host-side shares). */
export function checkDomainShares(args: VirtioFsDomainArgs): string[] {
  const problems = shareProblems(args.mounts, "/mounts", true);
  args.mounts.forEach((share, i) => {
    for (const field of XML_FIELDS) {
      const value = share[field];
      const p = typeof value === "string" ? xmlCharProblem(value) : undefined;
      if (p) problems.push(`/mounts/${i}/${field}: ${p} (it is written into the domain XML)`);
    }
  });
  for (const key of ["name", "readonly_wrapper_path"] as const) {
    const value = args[key];
    const p = value === undefined ? undefined : xmlCharProblem(value);
    if (p) problems.push(`/${key}: ${p}${key === "name" ? "" : " (it is written into the domain XML)"}`);
  }
  return problems;
}

/** Applies the shares to a domain XML text. */
export function editDomainXml(before: string, args: VirtioFsDomainArgs, libvirtVersion: string): DomainEdit {
  const version = parseVersion(libvirtVersion);
  if (!version)
    throw new DomainXmlError(`libvirt version ${JSON.stringify(libvirtVersion)} is not a version such as 9.0.0`);
  const mechanism = resolveReadonlyMechanism(filled(args.readonly_mechanism, "readonly_mechanism"), version);
  const wrapperPath = filled(args.readonly_wrapper_path, "readonly_wrapper_path");
  const doc = parseXml(before);
  const devices = domainDevices(doc);
  for (const share of args.mounts) {
    for (const field of XML_FIELDS) {
      const value = share[field];
      // checkDomainShares refuses these first; this keeps editDomainXml safe on its own
      if (typeof value === "string" && xmlCharProblem(value))
        throw new DomainXmlError(`${field} of share ${JSON.stringify(share.tag)} ${xmlCharProblem(value)}`);
    }
  }
  const wanted = args.mounts.filter((s) => filled(s.state, `state of share ${s.tag}`) !== "absent");
  const wantedTags = new Set(wanted.map((s) => s.tag));

  for (const fsEl of elementChildren(devices, "filesystem")) {
    const tag = filesystemTag(fsEl);
    if (tag !== undefined && wantedTags.has(tag) && !isVirtiofsFilesystem(fsEl)) {
      const i = args.mounts.findIndex((s) => s.tag === tag);
      const driver = elementChildren(fsEl, "driver")[0]?.getAttribute("type") ?? "default (9p)";
      throw new ModuleFailure(
        `/mounts/${i}/tag: tag "${tag}" is already used by a <filesystem> with driver ${driver} in the domain; ` +
          "tags must be unique in a VM (rename one of them)",
      );
    }
  }

  const added: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  const byTag = new Map<string, XElement>();
  for (const fsEl of elementChildren(devices, "filesystem").filter(isVirtiofsFilesystem)) {
    const tag = filesystemTag(fsEl) ?? "";
    if (!wantedTags.has(tag)) {
      removeFormatted(fsEl);
      if (!removed.includes(tag)) removed.push(tag);
    } else if (byTag.has(tag)) {
      removeFormatted(fsEl);
      if (!updated.includes(tag)) updated.push(tag);
    } else byTag.set(tag, fsEl);
  }

  const warnings = readonlyWarnings(wanted, mechanism);
  const specs = wanted.map((share) => deviceSpec(share, mechanism, wrapperPath));
  let last: XElement | undefined;
  for (const [i, share] of wanted.entries()) {
    const spec = specs[i];
    const existing = byTag.get(share.tag);
    if (existing) {
      if (syncFilesystem(existing, spec) && !updated.includes(share.tag)) updated.push(share.tag);
      last = existing;
    } else {
      last = addFilesystem(devices, spec, last ?? lastFilesystem(devices));
      added.push(share.tag);
    }
  }
  // shared memory is what virtio-fs needs; a domain without shares is left as it is (never stripped)
  const memoryBackingChanged = wanted.length > 0 ? ensureSharedMemory(doc) : false;
  const changed = added.length + updated.length + removed.length > 0 || memoryBackingChanged;
  const xml = changed
    ? (hasBom(before) ? "\uFEFF" : "") + serializeXml(doc, { trailingNewline: before.endsWith("\n") })
    : before;
  // what is written must read back: never hand libvirt (or a file) XML that is not well-formed
  if (changed) parseXml(xml);
  return { xml, added, updated, removed, memoryBackingChanged, warnings, specs };
}

/** Read-only shares the host does not protect, and binary_path values the wrapper replaces. */
function readonlyWarnings(wanted: VirtioFsDomainArgs["mounts"], mechanism: ReadonlyMechanism): string[] {
  const ro = wanted.filter((s) => filled(s.readonly, `readonly of share ${s.tag}`));
  const out: string[] = [];
  if (mechanism === "guest" && ro.length > 0)
    out.push(
      `readonly mechanism guest: shares ${ro.map((s) => s.tag).join(", ")} are read-only in the guest only; ` +
        "guest root can remount them rw and write to the host directory",
    );
  if (mechanism === "wrapper")
    for (const s of ro.filter((s) => s.binary_path !== undefined))
      out.push(
        `share ${s.tag}: binary_path ${s.binary_path} is not used; the read-only wrapper runs the host's virtiofsd`,
      );
  return out;
}

function lastFilesystem(devices: XElement): XElement | undefined {
  return elementChildren(devices, "filesystem").pop();
}

/**
 * Runs virsh. Every value travels inside its option token (--connect=URI, --domain=NAME,
 * --file=PATH): virsh splits such a token at its first "=", so a value starting with "-" is never
 * read as an option (vshCommandParse in tools/vsh.c).
 */
function virsh(uri: string, command: string, args: string[], timeoutMs?: number) {
  return run("virsh", [`--connect=${uri}`, command, ...args], { timeoutMs });
}

/** The <name> and <uuid> of a domain definition. */
function domainIdentity(doc: XDocument): { name?: string; uuid?: string } {
  const root = doc.documentElement!;
  const text = (el: XElement | undefined) => (el ? (el.firstChild?.nodeValue ?? "") : undefined);
  return { name: text(firstChild(root, "name")), uuid: text(firstChild(root, "uuid")) };
}

/** Reads a domain XML file: a regular file of valid UTF-8 within MAX_XML_BYTES. */
function readXmlFile(file: string): string {
  let data: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error("not a regular file");
    if (st.size > MAX_XML_BYTES)
      throw new Error(`${st.size} bytes, more than the ${MAX_XML_BYTES} a domain XML may have`);
    data = fs.readFileSync(file);
  } catch (e) {
    throw new ModuleFailure(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new ModuleFailure(`cannot read ${file}: it is not valid UTF-8 (libvirt domain XML is UTF-8)`);
  }
}

/** Version of the libvirt daemon from `virsh version --daemon`, or undefined. */
export function parseVirshVersion(text: string): string | undefined {
  for (const prefix of ["Running against daemon:", "Using library: libvirt"]) {
    const line = text.split("\n").find((l) => l.trim().startsWith(prefix));
    const v = line?.trim().slice(prefix.length).trim().split(/\s+/)[0];
    if (v && parseVersion(v)) return v;
  }
  return undefined;
}

export function main(args: VirtioFsDomainArgs, ctx: ModuleContext, fallbacks: DomainFallbacks): ModuleResult {
  const uri = filled(args.uri, "uri");
  const problems = checkDomainShares(args);
  if (problems.length > 0) throw new ModuleFailure(`invalid arguments: ${problems.join("; ")}`);
  if ((args.name === undefined) === (args.xml_path === undefined)) {
    throw new ModuleFailure("invalid arguments: /: expected exactly one of name and xml_path");
  }

  // the wanted shares' host directories, before libvirt is asked anything (as the role's own tasks did)
  const createdDirs = ensureHostDirs(
    args.mounts.filter((s) => filled(s.state, `state of share ${s.tag}`) !== "absent"),
    filled(args.host_dirs, "host_dirs"),
    filled(args.dir_mode, "dir_mode"),
    ctx.checkMode,
  );

  let before: string;
  let version = args.libvirt_version;
  let running = false;
  let domState: string | undefined;
  let domainToken: string | undefined;
  if (args.name !== undefined) {
    const dump = virsh(uri, "dumpxml", ["--inactive", `--domain=${args.name}`]);
    if (dump.rc !== 0) {
      throw new ModuleFailure(
        `cannot read the definition of domain ${args.name} (${describeFailure(dump)}); ` +
          `check that it exists (\`virsh -c ${uri} list --all\`) and that this user may manage ${uri}`,
      );
    }
    before = dump.stdout;
    let dumped: { name?: string; uuid?: string };
    try {
      dumped = domainIdentity(parseXml(before));
    } catch (e) {
      throw new ModuleFailure(`cannot edit the domain XML of ${args.name}: ${(e as Error).message}`);
    }
    if (dumped.name !== args.name) {
      throw new ModuleFailure(
        `virsh returned the definition of domain ${JSON.stringify(dumped.name ?? "")} when asked for ${JSON.stringify(args.name)} ` +
          "(virsh reads a number as a domain id and a UUID as a domain UUID before it tries names); nothing was changed",
      );
    }
    // the UUID names this very domain in the calls that follow, whatever its name looks like
    const domain = `--domain=${dumped.uuid || args.name}`;
    domainToken = domain;
    if (version === undefined) {
      const v = virsh(uri, "version", ["--daemon"]);
      version = v.rc === 0 ? parseVirshVersion(v.stdout) : undefined;
      if (version === undefined) {
        ctx.warn(
          `could not tell the libvirt version (${v.rc === 0 ? "unrecognised virsh version output" : describeFailure(v)}); assuming ${fallbacks.libvirt_version}${versionAtLeast(parseVersion(fallbacks.libvirt_version)!, 11, 0) ? "" : ", so no <readonly/> is written"}`,
        );
        version = fallbacks.libvirt_version;
      }
    }
    const st = virsh(uri, "domstate", [domain]);
    domState = st.rc === 0 ? st.stdout.trim().split("\n")[0].trim() : undefined;
    running = domState !== undefined && !["shut off", "crashed"].includes(domState);
  } else {
    before = readXmlFile(args.xml_path!);
    version = version ?? fallbacks.libvirt_version;
  }

  let edit: DomainEdit;
  try {
    edit = editDomainXml(before, args, version);
  } catch (e) {
    if (e instanceof ModuleFailure) throw e;
    throw new ModuleFailure(`cannot edit the domain XML of ${args.name ?? args.xml_path}: ${(e as Error).message}`);
  }
  for (const w of edit.warnings) ctx.warn(w);
  const changed = edit.xml !== before;

  if (changed && !ctx.checkMode) {
    if (args.name !== undefined) {
      // a private directory (mkdtemp: 0700) and a fixed file name: the domain name never becomes a path
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-domain-"));
      try {
        const file = path.join(dir, "domain.xml");
        fs.writeFileSync(file, edit.xml, { mode: 0o600, flag: "wx" });
        const def = virsh(uri, "define", [`--file=${file}`]);
        if (def.rc !== 0) {
          throw new ModuleFailure(
            `libvirt refused the new definition of ${args.name} (${describeFailure(def)}); ` +
              "nothing was changed. libvirt 9.0 accepts cache modes none/always only and no <readonly/>; virtio-fs needs shared memory",
            { changed: false, added: edit.added, updated: edit.updated, removed: edit.removed },
          );
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } else {
      writeFileAtomic(args.xml_path!, edit.xml, 0o644);
    }
  }

  const live = running && domainToken !== undefined ? runningDomain(args, ctx, uri, domainToken, edit) : undefined;
  const liveChanged = live ? live.changed : false;
  const restartRequired = live ? live.pending.length > 0 && !live.restarted : false;
  const result: ModuleResult = {
    changed: changed || liveChanged || createdDirs.length > 0,
    created_dirs: createdDirs,
    added: edit.added,
    updated: edit.updated,
    removed: edit.removed,
    memory_backing_changed: edit.memoryBackingChanged,
    restart_required: restartRequired,
    unhealthy: live?.unhealthy ?? [],
    live: live?.outcome ?? { attached: [], detached: [], replaced: [], failed: {} },
    restarted: live?.restarted ?? false,
    libvirt_version: version,
  };
  if (live) result.share_health = live.health;
  if (domState !== undefined) result.domain_state = domState;
  if (ctx.diff) {
    const what = args.name !== undefined ? `domain ${args.name}` : args.xml_path!;
    result.diff = { before, after: edit.xml, before_header: `${what} (before)`, after_header: `${what} (after)` };
  }
  const parts = [
    createdDirs.length ? `created host directories ${createdDirs.join(", ")}` : "",
    edit.added.length ? `added ${edit.added.join(", ")}` : "",
    edit.updated.length ? `updated ${edit.updated.join(", ")}` : "",
    edit.removed.length ? `removed ${edit.removed.join(", ")}` : "",
    edit.memoryBackingChanged ? "guest memory made shared (<memoryBacking>)" : "",
    ...(live?.messages ?? []),
    restartRequired ? `restart the domain to apply ${live!.pending.join(", ")}` : "",
  ].filter((m) => m);
  result.msg = parts.length > 0 ? parts.join("; ") : "the domain's virtio-fs shares are as configured";
  return result;
}

interface RunningReport {
  health: ShareHealth[];
  unhealthy: string[];
  outcome: LiveOutcome;
  restarted: boolean;
  changed: boolean;
  /** Tags whose live device is still not as configured. */
  pending: string[];
  messages: string[];
}

/**
 * A running domain: the health of each share's virtiofsd, then what can be done without the guest
 * noticing more than a device change (hot-plug), then, when allowed, destroy + start.
 */
function runningDomain(
  args: VirtioFsDomainArgs,
  ctx: ModuleContext,
  uri: string,
  domain: string,
  edit: DomainEdit,
): RunningReport {
  const timeoutMs = filled(args.timeout, "timeout") * 1000;
  const liveUpdate = filled(args.live_update, "live_update");
  const restartAllowed = filled(args.restart_allowed, "restart_allowed");
  const runDir = filled(args.run_dir, "run_dir");
  const dump = virsh(uri, "dumpxml", [domain], timeoutMs);
  if (dump.rc !== 0)
    throw new ModuleFailure(`cannot read the running definition of domain ${args.name} (${describeFailure(dump)})`);
  const id = virsh(uri, "domid", [domain], timeoutMs);
  const domainId = id.rc === 0 && /^[0-9]+$/.test(id.stdout.trim()) ? id.stdout.trim() : undefined;
  let plan: LivePlan;
  try {
    plan = planLive(dump.stdout, edit.specs, runDir, domainId);
  } catch (e) {
    throw new ModuleFailure(`cannot read the running definition of domain ${args.name}: ${(e as Error).message}`);
  }
  const problems = plan.health.filter((h) => !["ok", "not attached", "unknown"].includes(h.status));
  for (const h of plan.health.filter((h) => h.status === "unknown"))
    ctx.warn(`domain ${args.name}, share ${h.tag}: virtiofsd not checked: ${h.detail}`);
  for (const h of problems) ctx.warn(`domain ${args.name}, share ${h.tag}: ${h.status}: ${h.detail}`);
  const gone = problems.filter((h) => h.status === "host directory gone").map((h) => h.tag);
  const messages: string[] = problems.map((h) => `${h.tag}: ${h.status}`);
  const planned = [...plan.detach, ...plan.replace, ...plan.attach];

  const outcome = ctx.checkMode
    ? { attached: [], detached: [], replaced: [], failed: {} }
    : applyLive({ virsh: (c, a, t) => virsh(uri, c, a, t), domain, timeoutMs }, plan, edit.specs, liveUpdate);
  const done = [...outcome.attached, ...outcome.detached, ...outcome.replaced];
  for (const [tag, why] of Object.entries(outcome.failed)) ctx.warn(`domain ${args.name}, share ${tag}: live ${why}`);
  if (outcome.attached.length) messages.push(`hot-plugged ${outcome.attached.join(", ")}`);
  if (outcome.detached.length) messages.push(`hot-unplugged ${outcome.detached.join(", ")}`);
  if (outcome.replaced.length)
    messages.push(`replaced ${outcome.replaced.join(", ")} live (new virtiofsd; mount again in the guest)`);
  // in check mode, what a live update would do counts as done: the run would change it
  const wouldDo = ctx.checkMode && liveUpdate ? planned : done;
  const pending = [...planned.filter((t) => !wouldDo.includes(t)), ...plan.restartOnly];

  let restarted = false;
  if (pending.length > 0 && restartAllowed) {
    if (gone.length > 0) {
      messages.push(
        `not restarted: the host directory of ${gone.join(", ")} is gone and libvirt would not start the domain`,
      );
    } else if (ctx.checkMode) {
      restarted = true;
    } else {
      const failure = restartDomain({ virsh: (c, a, t) => virsh(uri, c, a, t), domain, timeoutMs });
      if (failure) throw new ModuleFailure(`restarting domain ${args.name} to apply ${pending.join(", ")}: ${failure}`);
      restarted = true;
    }
    if (restarted) messages.push(`restarted the domain (destroy + start) for ${pending.join(", ")}`);
  }
  return {
    health: plan.health,
    unhealthy: problems.map((h) => h.tag),
    outcome,
    restarted,
    changed: wouldDo.length > 0 || restarted,
    pending,
    messages,
  };
}
