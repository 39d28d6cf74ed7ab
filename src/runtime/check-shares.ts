import { diagnostic, pointerJoin, type Diagnostic } from "../errors/messages";
import { operationOptions } from "./mount-options";

/** A share as it comes from the user, before defaults. */
export interface ShareInput {
  tag?: unknown;
  host_path?: unknown;
  mount_point?: unknown;
  readonly?: unknown;
  options?: unknown;
  state?: unknown;
}

/** Why a path is not normalised, or undefined when it is. */
function pathProblem(path: string): string | undefined {
  if (path.length > 1 && path.endsWith("/")) return "it ends with /";
  if (path.includes("//")) return "it contains an empty component (//)";
  const parts = path.split("/");
  if (parts.includes("..")) return "it contains a .. component";
  if (parts.includes(".")) return "it contains a . component";
  return undefined;
}

/**
 * The rules JSON Schema cannot express: uniqueness and nesting across the shares of one VM,
 * normalised paths, options that contradict readonly, and host_path where host artifacts are made.
 * One implementation for `vfsgen validate` and the modules, so both refuse the same input with the
 * same words. A share with state absent is not mounted: it may sit inside another and needs no host_path.
 */
export function checkShares(shares: ShareInput[], base: string, hostSide: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const tags = new Map<string, string>();
  const points: { path: string; pointer: string; absent: boolean }[] = [];
  shares.forEach((share, i) => {
    if (!share || typeof share !== "object") return;
    const at = pointerJoin(base, i);
    const absent = share.state === "absent";
    if (typeof share.tag === "string") {
      const first = tags.get(share.tag);
      if (first) out.push(diagnostic("VFS020", pointerJoin(at, "tag"), { tag: share.tag, other: first }));
      else tags.set(share.tag, at);
    }
    if (typeof share.mount_point === "string" && share.mount_point.startsWith("/")) {
      const mp = share.mount_point;
      const pointer = pointerJoin(at, "mount_point");
      const why = pathProblem(mp);
      if (mp === "/") out.push(diagnostic("VFS024", pointer));
      else if (why) out.push(diagnostic("VFS023", pointer, { path: mp, why }));
      else {
        const dup = points.find((p) => p.path === mp);
        if (dup)
          out.push(diagnostic("VFS021", pointer, { path: mp, other: dup.pointer.replace(/\/mount_point$/, "") }));
        else {
          for (const p of points) {
            if (absent || p.absent) continue;
            if (mp.startsWith(p.path + "/"))
              out.push(
                diagnostic("VFS022", pointer, {
                  path: mp,
                  parent: p.path,
                  other: p.pointer.replace(/\/mount_point$/, ""),
                }),
              );
            else if (p.path.startsWith(mp + "/"))
              out.push(diagnostic("VFS022", p.pointer, { path: p.path, parent: mp, other: at }));
          }
          points.push({ path: mp, pointer, absent });
        }
      }
    }
    if (typeof share.host_path === "string" && share.host_path.startsWith("/")) {
      const why = pathProblem(share.host_path);
      if (why) out.push(diagnostic("VFS027", pointerJoin(at, "host_path"), { path: share.host_path, why }));
    } else if (hostSide && !absent && share.host_path === undefined) {
      out.push(diagnostic("VFS025", pointerJoin(at, "host_path")));
    }
    if (typeof share.options === "string") {
      const opts = share.options.split(",");
      const readonly = share.readonly === true;
      if (opts.includes("ro") && !readonly)
        out.push(diagnostic("VFS026", pointerJoin(at, "options"), { option: "ro", readonly: "false" }));
      if (opts.includes("rw") && readonly)
        out.push(diagnostic("VFS026", pointerJoin(at, "options"), { option: "rw", readonly: "true" }));
      for (const option of refusedOperations(opts))
        out.push(diagnostic("VFS036", pointerJoin(at, "options"), { option }));
    }
  });
  return out;
}

/**
 * Options that make mount(8) do something other than mount the tag (bind/move/remount, propagation
 * changes, loop devices, helpers, dm-verity: util-linux's operation options). `bind` would bind-mount
 * a directory named like the tag. silent/loud only change kernel logging and stay allowed.
 */
export function refusedOperations(options: string[]): string[] {
  return operationOptions(options).filter((o) => o !== "silent" && o !== "loud");
}

/** The same rules as `pointer: message` lines, the form module failures use. */
export function shareProblems(shares: ShareInput[], base: string, hostSide: boolean): string[] {
  return checkShares(shares, base, hostSide).map((d) => `${d.pointer}: ${d.message}`);
}
