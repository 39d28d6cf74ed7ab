/**
 * Users and groups as the guest's NSS sees them (`getent passwd|group -- KEY`), so LDAP/SSSD/systemd
 * users work. A numeric owner/group is an id, as ansible.builtin.file takes it. Without a getent
 * program on the guest, /etc/passwd and /etc/group are read (VIRTIO_FS_ROOT applies to those).
 */
import * as fs from "fs";
import { systemPath } from "./env-hooks";
import { run } from "./exec";

type Database = "passwd" | "group";
/** One passwd/group entry: name and numeric id. */
interface Account {
  name: string;
  id: number;
}

const FILES: Record<Database, string> = { passwd: "/etc/passwd", group: "/etc/group" };
const cache = new Map<string, Account | undefined>();

function parseRow(line: string): Account | undefined {
  const f = line.split(":");
  if (f.length < 3 || f[0] === "" || !/^\d+$/.test(f[2])) return undefined;
  return { name: f[0], id: Number(f[2]) };
}

function fromFile(db: Database, key: string): Account | undefined {
  let text: string;
  try {
    text = fs.readFileSync(systemPath(FILES[db]), "utf8");
  } catch {
    return undefined;
  }
  const rows = text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map(parseRow);
  const numeric = /^\d+$/.test(key);
  return rows.find((r) => r && r.name === key) ?? (numeric ? rows.find((r) => r && r.id === Number(key)) : undefined);
}

/** getent's answer; exit 2 means "no such key"; a missing or failing getent falls back to the files. */
function lookup(db: Database, key: string): Account | undefined {
  const id = `${db}\0${key}`;
  if (cache.has(id)) return cache.get(id);
  let found: Account | undefined;
  const r = run("getent", [db, "--", key], { timeoutMs: 30_000 });
  if (r.rc === 0 && !r.spawnError) found = parseRow(r.stdout.split("\n")[0] ?? "");
  else if (r.rc === 2 && !r.spawnError) found = undefined;
  else found = fromFile(db, key);
  cache.set(id, found);
  return found;
}

/** An owner/group that is all digits is an id (no lookup needed), as in ansible.builtin.file. */
function asId(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/** uid of a user name (or numeric uid), or undefined when NSS has no such user. */
export function lookupUid(name: string): number | undefined {
  return asId(name) ?? lookup("passwd", name)?.id;
}

/** gid of a group name (or numeric gid), or undefined when NSS has no such group. */
export function lookupGid(name: string): number | undefined {
  return asId(name) ?? lookup("group", name)?.id;
}

/** Name of a uid (for messages), or the number as text. */
export function userName(uid: number): string {
  return lookup("passwd", String(uid))?.name ?? String(uid);
}

/** Name of a gid (for messages), or the number as text. */
export function groupName(gid: number): string {
  return lookup("group", String(gid))?.name ?? String(gid);
}
