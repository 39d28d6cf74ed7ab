/** What the guest kernel says about virtio-fs: module loaded/available, offered tags, systemd as PID 1. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { systemPath } from "./env-hooks";
import { run } from "./exec";

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(systemPath(file), "utf8");
  } catch {
    return undefined;
  }
}

/** /proc/filesystems lists virtiofs (loaded module or built into the kernel). */
function filesystemsListVirtiofs(): boolean {
  const text = readText("/proc/filesystems") ?? "";
  return text.split("\n").some((l) => l.trim().split(/\s+/).pop() === "virtiofs");
}

/** The virtiofs module is loaded (or built in and registered). */
export function virtiofsLoaded(): boolean {
  return fs.existsSync(systemPath("/sys/module/virtiofs")) || filesystemsListVirtiofs();
}

/** modules.builtin of the kernel lists virtiofs. */
function virtiofsBuiltin(kernel = os.release()): boolean {
  const text = readText(`/lib/modules/${kernel}/modules.builtin`) ?? "";
  return text.split("\n").some((l) => path.basename(l.trim()) === "virtiofs.ko");
}

/** The module can be loaded: modinfo knows it, it is built in, or it is already loaded. */
export function virtiofsAvailable(kernel = os.release()): boolean {
  if (virtiofsLoaded() || virtiofsBuiltin(kernel)) return true;
  return run("modinfo", ["--", "virtiofs"]).rc === 0;
}

/**
 * Tags the VM offers, from /sys/fs/virtiofs/<N>/tag (Linux >= 6.9, once the module is loaded);
 * null when the kernel does not list them.
 */
export function offeredTags(): string[] | null {
  const dir = systemPath("/sys/fs/virtiofs");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const tags: string[] = [];
  for (const n of names.sort()) {
    try {
      tags.push(fs.readFileSync(path.join(dir, n, "tag"), "utf8").trim());
    } catch {
      /* not a device directory */
    }
  }
  return tags;
}

/** systemd is PID 1 (so fstab changes need systemctl daemon-reload). */
export function systemdIsPid1(): boolean {
  return (readText("/proc/1/comm") ?? "").trim() === "systemd";
}

/** The kernel's "virtio-fs: tag <TAG> not found" line from dmesg, if dmesg is readable. */
export function dmesgTagNotFound(tag: string): string | undefined {
  const r = run("dmesg", []);
  if (r.rc !== 0) return undefined;
  const needle = `tag <${tag}> not found`;
  return r.stdout
    .split("\n")
    .reverse()
    .find((l) => l.includes(needle))
    ?.trim();
}
