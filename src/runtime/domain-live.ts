/**
 * The running side of a domain: what its live virtiofs devices are, how healthy their virtiofsd are,
 * and what can be done without restarting the guest.
 *
 * Found on the lab (README "Behaviour worth knowing"): libvirt 9.0 and 11.3 hot-plug and hot-unplug a
 * virtiofs <filesystem> (`virsh attach-device --live`, `detach-device --live`); on attach libvirt
 * starts a new virtiofsd. Detaching the device of a dead virtiofsd works while the guest has no
 * request in flight on it (its mount then fails with ENOTCONN, and the guest role's recover mounts the
 * tag again); with one in flight (a process or a probe waiting on the share) the guest's virtio-fs
 * driver waits for the answer before it releases the device, for ever (seen on 6.1: kacpi_hotplug in
 * D in virtio_fs_drain_queue, while libvirt reports the detach as sent), so the replace fails at the
 * deadline and only destroy + start helps. Each attached device takes a free PCIe root port on q35
 * ("No more available PCI slots" otherwise), which the domain template reserves. A guest reboot keeps
 * the QEMU process, so it never restarts a virtiofsd: only a new device or destroy + start does.
 *
 * Live actions (plan): a wanted share without a live device is attached; a live device no share wants
 * is detached; a device whose virtiofsd is dead or serves a directory that is no longer its source is
 * replaced (detach, then attach the configured device). A device that only differs from the
 * configuration while its daemon is healthy is left for a restart: replacing it would cut the guest's
 * working mount. A share whose host directory is gone cannot be served again and is only reported.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  addFilesystem,
  domainDevices,
  elementChildren,
  filesystemTag,
  firstChild,
  isVirtiofsFilesystem,
  parseXml,
  serializeElement,
  syncFilesystem,
  type DeviceSpec,
  type XElement,
} from "./domain-xml";
import { describeFailure, type ExecResult } from "./exec";
import { deviceHealth, type LiveDevice, type ShareHealth } from "./virtiofsd-health";

export interface LivePlan {
  attach: string[];
  detach: string[];
  replace: string[];
  /** Tags whose live device differs from the configuration while it works: applied by a restart only. */
  restartOnly: string[];
  health: ShareHealth[];
  /** The live device of each tag as libvirt shows it (with its alias and address), for `virsh detach-device`. */
  liveXml: Map<string, string>;
}

/** The device XML `virsh attach-device` gets for a spec (the same device the persistent definition holds). */
export function deviceXml(spec: DeviceSpec): string {
  const doc = parseXml("<devices/>");
  return serializeElement(addFilesystem(doc.documentElement!, spec));
}

/** Plans the live actions; health is read for every live device of a wanted share. */
export function planLive(
  liveXml: string,
  wanted: DeviceSpec[],
  runDir: string,
  domainId: string | undefined,
): LivePlan {
  const devices = domainDevices(parseXml(liveXml));
  const live = elementChildren(devices, "filesystem").filter(isVirtiofsFilesystem);
  const wantedTags = new Set(wanted.map((s) => s.tag));
  const plan: LivePlan = { attach: [], detach: [], replace: [], restartOnly: [], health: [], liveXml: new Map() };
  for (const el of live) {
    const tag = filesystemTag(el) ?? "";
    if (!plan.liveXml.has(tag)) plan.liveXml.set(tag, serializeElement(el));
    if (!wantedTags.has(tag) && !plan.detach.includes(tag)) plan.detach.push(tag);
  }
  for (const spec of wanted) {
    const el = live.find((e) => filesystemTag(e) === spec.tag);
    if (!el) {
      plan.attach.push(spec.tag);
      plan.health.push({ tag: spec.tag, status: "not attached", detail: "the running domain has no device for it" });
      continue;
    }
    const device: LiveDevice = {
      tag: spec.tag,
      alias: firstChild(el, "alias")?.getAttribute("name") ?? undefined,
      sourceDir: firstChild(el, "source")?.getAttribute("dir") ?? "",
    };
    const health = deviceHealth(device, runDir, domainId);
    plan.health.push(health);
    if (health.status === "virtiofsd dead" || health.status === "host directory replaced") plan.replace.push(spec.tag);
    else if (health.status === "ok" && differs(el, spec)) plan.restartOnly.push(spec.tag);
  }
  return plan;
}

/**
 * True when the live device is not what the spec asks for (compared on a copy). The live XML names
 * the virtiofsd libvirt chose (<binary path='/usr/lib/qemu/virtiofsd'/> on 9.0) where the definition
 * has none: that path is not a difference unless the spec names one.
 */
function differs(el: XElement, spec: DeviceSpec): boolean {
  const copy = parseXml(serializeElement(el)).documentElement!;
  const binary = firstChild(copy, "binary");
  if (binary && spec.binaryPath === undefined) {
    binary.removeAttribute("path");
    if (binary.attributes.length === 0 && elementChildren(binary).length === 0) copy.removeChild(binary);
  }
  return syncFilesystem(copy, spec);
}

/** What the live actions did; failed maps a tag to libvirt's answer. */
export interface LiveOutcome {
  attached: string[];
  detached: string[];
  replaced: string[];
  failed: Record<string, string>;
}

/** virsh bound to one connection and domain; the caller's deadline (ms) bounds every call and wait. */
export interface LiveOps {
  virsh: (command: string, args: string[], timeoutMs?: number) => ExecResult;
  /** --domain=UUID (or name) token. */
  domain: string;
  timeoutMs: number;
}

/** A synchronous pause (modules run synchronously; nothing else happens meanwhile). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Tags of the live virtiofs devices, or undefined when virsh cannot tell. */
function liveTags(ops: LiveOps): string[] | undefined {
  const r = ops.virsh("dumpxml", [ops.domain], ops.timeoutMs);
  if (r.rc !== 0) return undefined;
  try {
    return elementChildren(domainDevices(parseXml(r.stdout)), "filesystem")
      .filter(isVirtiofsFilesystem)
      .map((el) => filesystemTag(el) ?? "");
  } catch {
    return undefined;
  }
}

/**
 * Applies the plan. Every device file sits in a private directory (mkdtemp: 0700) under a fixed name.
 * detach-device returns once the guest released the device or after libvirt's own 5 s with "detach
 * request sent": the live XML is then polled until the tag is gone, within the deadline.
 */
export function applyLive(ops: LiveOps, plan: LivePlan, specs: DeviceSpec[], live: boolean): LiveOutcome {
  const out: LiveOutcome = { attached: [], detached: [], replaced: [], failed: {} };
  if (!live) return out;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-device-"));
  const file = path.join(dir, "device.xml");
  const send = (command: "attach-device" | "detach-device", xml: string): string | undefined => {
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, xml, { mode: 0o600, flag: "wx" });
    const r = ops.virsh(command, [ops.domain, `--file=${file}`, "--live"], ops.timeoutMs);
    return r.rc === 0 ? undefined : describeFailure(r);
  };
  const detach = (tag: string): string | undefined => {
    const failure = send("detach-device", plan.liveXml.get(tag)!);
    if (failure) return failure;
    const deadline = Date.now() + ops.timeoutMs;
    for (;;) {
      const tags = liveTags(ops);
      if (tags && !tags.includes(tag)) return undefined;
      if (Date.now() >= deadline)
        return (
          `the guest did not release the device within ${ops.timeoutMs / 1000} s (libvirt sent the detach request): ` +
          `a guest with requests in flight on a dead virtiofsd never does, and its hot-plug stays blocked until the domain restarts`
        );
      pause(500);
    }
  };
  const spec = (tag: string) => specs.find((s) => s.tag === tag)!;
  try {
    for (const tag of plan.detach) {
      const failure = detach(tag);
      if (failure) out.failed[tag] = `detach: ${failure}`;
      else out.detached.push(tag);
    }
    for (const tag of plan.replace) {
      const failure = detach(tag);
      if (failure) {
        out.failed[tag] = `detach: ${failure}`;
        continue;
      }
      const attachFailure = send("attach-device", deviceXml(spec(tag)));
      if (!attachFailure) {
        out.replaced.push(tag);
        continue;
      }
      // put the old device back (libvirt starts a virtiofsd for it): a healthy-looking device beats none
      const old = parseXml(plan.liveXml.get(tag)!).documentElement!;
      for (const name of ["alias", "address"]) for (const el of elementChildren(old, name)) old.removeChild(el);
      const restore = send("attach-device", serializeElement(old));
      out.failed[tag] =
        `attach: ${attachFailure}${restore ? `; restoring the old device failed too: ${restore}` : "; the old device was attached again"}`;
    }
    for (const tag of plan.attach) {
      const failure = send("attach-device", deviceXml(spec(tag)));
      if (failure) out.failed[tag] = `attach: ${failure}`;
      else out.attached.push(tag);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** destroy + start: a new QEMU process and new virtiofsd for every share (a guest reboot keeps both). */
export function restartDomain(ops: LiveOps): string | undefined {
  const d = ops.virsh("destroy", [ops.domain], ops.timeoutMs);
  if (d.rc !== 0) return `virsh destroy failed: ${describeFailure(d)}`;
  const s = ops.virsh("start", [ops.domain], ops.timeoutMs);
  if (s.rc !== 0) return `virsh start failed after the domain was stopped: ${describeFailure(s)}`;
  return undefined;
}
