/*
 * virtio_fs_domain (host side): makes a libvirt domain's virtiofs <filesystem> devices exactly the
 * shares in mounts (matched by <target dir> = tag; shares with state absent are removed) and ensures
 * <memoryBacking> (when a share is wanted) with <source type='memfd'/> and <access mode='shared'/>.
 * Other filesystems (9p, ...) and everything else in the XML are left alone; devices are edited in
 * place so libvirt's <alias> and <address> children survive.
 * Test hook (src/runtime/env-hooks.ts): VIRTIO_FS_BIN_DIR holds virsh.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shareProblems } from "../../input/check-shares";
import type { VirtioFsDomainArgs } from "../../../generated/modules/types";
import { ModuleFailure, type ModuleContext, type ModuleResult } from "../ansible";
import { writeFileAtomic } from "../atomic-write";
import {
  addFilesystem, deviceSpec, domainDevices, elementChildren, ensureSharedMemory, filesystemTag, isVirtiofsFilesystem,
  parseVersion, parseXml, removeFormatted, serializeXml, syncFilesystem, versionAtLeast, type XElement,
} from "../domain-xml";
import { describeFailure, run } from "../exec";

const DEFAULT_LIBVIRT_VERSION = "9.0.0";

export interface DomainEdit {
  xml: string;
  added: string[];
  updated: string[];
  removed: string[];
  memoryBackingChanged: boolean;
}

/** Checks the schema cannot express (the rules `vfsgen validate` applies to host-side shares). */
export function checkDomainShares(args: VirtioFsDomainArgs): string[] {
  return shareProblems(args.mounts, "/mounts", true);
}

/** Applies the shares to a domain XML text. */
export function editDomainXml(before: string, args: VirtioFsDomainArgs, libvirtVersion: string): DomainEdit {
  const version = parseVersion(libvirtVersion) ?? parseVersion(DEFAULT_LIBVIRT_VERSION)!;
  const readonlyAllowed = versionAtLeast(version, 11, 0);
  const doc = parseXml(before);
  const devices = domainDevices(doc);
  const wanted = args.mounts.filter((s) => (s.state ?? "mounted") !== "absent");
  const wantedTags = new Set(wanted.map((s) => s.tag));

  for (const fsEl of elementChildren(devices, "filesystem")) {
    const tag = filesystemTag(fsEl);
    if (tag !== undefined && wantedTags.has(tag) && !isVirtiofsFilesystem(fsEl)) {
      const i = args.mounts.findIndex((s) => s.tag === tag);
      const driver = elementChildren(fsEl, "driver")[0]?.getAttribute("type") ?? "default (9p)";
      throw new ModuleFailure(`/mounts/${i}/tag: tag "${tag}" is already used by a <filesystem> with driver ${driver} in the domain; `
        + "tags must be unique in a VM (rename one of them)");
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

  let last: XElement | undefined;
  for (const share of wanted) {
    const spec = deviceSpec(share, readonlyAllowed);
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
  const xml = changed ? serializeXml(doc, { trailingNewline: before.endsWith("\n") }) : before;
  return { xml, added, updated, removed, memoryBackingChanged };
}

function lastFilesystem(devices: XElement): XElement | undefined {
  return elementChildren(devices, "filesystem").pop();
}

function virsh(uri: string, args: string[]) {
  return run("virsh", ["-c", uri, ...args]);
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

export function main(args: VirtioFsDomainArgs, ctx: ModuleContext): ModuleResult {
  const uri = args.uri ?? "qemu:///system";
  const problems = checkDomainShares(args);
  if (problems.length > 0) throw new ModuleFailure(`invalid arguments: ${problems.join("; ")}`);
  if ((args.name === undefined) === (args.xml_path === undefined)) {
    throw new ModuleFailure("invalid arguments: /: expected exactly one of name and xml_path");
  }

  let before: string;
  let version = args.libvirt_version;
  let running = false;
  let domState: string | undefined;
  if (args.name !== undefined) {
    const dump = virsh(uri, ["dumpxml", "--inactive", args.name]);
    if (dump.rc !== 0) {
      throw new ModuleFailure(`cannot read the definition of domain ${args.name} (${describeFailure(dump)}); `
        + `check that it exists (\`virsh -c ${uri} list --all\`) and that this user may manage ${uri}`);
    }
    before = dump.stdout;
    if (version === undefined) {
      const v = virsh(uri, ["version", "--daemon"]);
      version = v.rc === 0 ? parseVirshVersion(v.stdout) : undefined;
      if (version === undefined) {
        ctx.warn(`could not tell the libvirt version (${v.rc === 0 ? "unrecognised virsh version output" : describeFailure(v)}); assuming ${DEFAULT_LIBVIRT_VERSION}, so no <readonly/> is written`);
        version = DEFAULT_LIBVIRT_VERSION;
      }
    }
    const st = virsh(uri, ["domstate", args.name]);
    domState = st.rc === 0 ? st.stdout.trim().split("\n")[0].trim() : undefined;
    running = domState !== undefined && !["shut off", "crashed"].includes(domState);
  } else {
    try {
      before = fs.readFileSync(args.xml_path!, "utf8");
    } catch (e) {
      throw new ModuleFailure(`cannot read ${args.xml_path}: ${(e as Error).message}`);
    }
    version = version ?? DEFAULT_LIBVIRT_VERSION;
  }

  let edit: DomainEdit;
  try {
    edit = editDomainXml(before, args, version);
  } catch (e) {
    if (e instanceof ModuleFailure) throw e;
    throw new ModuleFailure(`cannot edit the domain XML of ${args.name ?? args.xml_path}: ${(e as Error).message}`);
  }
  const changed = edit.xml !== before;

  if (changed && !ctx.checkMode) {
    if (args.name !== undefined) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-domain-"));
      const file = path.join(dir, `${args.name}.xml`);
      try {
        fs.writeFileSync(file, edit.xml, { mode: 0o600 });
        const def = virsh(uri, ["define", file]);
        if (def.rc !== 0) {
          throw new ModuleFailure(`libvirt refused the new definition of ${args.name} (${describeFailure(def)}); `
            + "nothing was changed. libvirt 9.0 accepts cache modes none/always only and no <readonly/>; virtio-fs needs shared memory",
          { changed: false, added: edit.added, updated: edit.updated, removed: edit.removed });
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } else {
      writeFileAtomic(args.xml_path!, edit.xml, 0o644);
    }
  }

  const result: ModuleResult = {
    changed,
    added: edit.added,
    updated: edit.updated,
    removed: edit.removed,
    memory_backing_changed: edit.memoryBackingChanged,
    restart_required: changed && running,
    libvirt_version: version,
  };
  if (domState !== undefined) result.domain_state = domState;
  if (ctx.diff) {
    const what = args.name !== undefined ? `domain ${args.name}` : args.xml_path!;
    result.diff = { before, after: edit.xml, before_header: `${what} (before)`, after_header: `${what} (after)` };
  }
  result.msg = changed
    ? `${[edit.added.length ? `added ${edit.added.join(", ")}` : "", edit.updated.length ? `updated ${edit.updated.join(", ")}` : "",
      edit.removed.length ? `removed ${edit.removed.join(", ")}` : "", edit.memoryBackingChanged ? "shared memfd memoryBacking set" : ""]
      .filter((s) => s).join("; ")}${changed && running ? "; restart the domain to apply" : ""}`
    : "the domain's virtio-fs shares are as configured";
  return result;
}
