/** User and group names resolved from /etc/passwd and /etc/group (VIRTIO_FS_ROOT applies; no NSS). */
import * as fs from "fs";
import { systemPath } from "./env-hooks";

function readTable(file: string): string[][] {
  let text: string;
  try {
    text = fs.readFileSync(systemPath(file), "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(":"));
}

/** uid of a user name, or undefined when /etc/passwd has no such user. */
export function lookupUid(name: string): number | undefined {
  const row = readTable("/etc/passwd").find((r) => r[0] === name && r.length >= 4);
  return row ? Number(row[2]) : undefined;
}

/** gid of a group name, or undefined when /etc/group has no such group. */
export function lookupGid(name: string): number | undefined {
  const row = readTable("/etc/group").find((r) => r[0] === name && r.length >= 3);
  return row ? Number(row[2]) : undefined;
}

/** Name of a uid (for messages), or the number as text. */
export function userName(uid: number): string {
  const row = readTable("/etc/passwd").find((r) => Number(r[2]) === uid && r.length >= 4);
  return row ? row[0] : String(uid);
}

/** Name of a gid (for messages), or the number as text. */
export function groupName(gid: number): string {
  const row = readTable("/etc/group").find((r) => Number(r[2]) === gid && r.length >= 3);
  return row ? row[0] : String(gid);
}
