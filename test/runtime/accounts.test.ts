import * as fs from "fs";
import * as path from "path";
import { makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

/** A getent that knows a directory-service user and group /etc/passwd and /etc/group do not, and logs its argv. */
function nssGetent(world: World): string {
  const log = path.join(world.dir, "getent.log");
  fs.writeFileSync(
    path.join(world.bin, "getent"),
    `#!${process.execPath}
const fs = require("fs");
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");
const [db, sep, key] = process.argv.slice(2);
const known = { passwd: ["ldapuser:*:5000:5000:LDAP user:/home/ldapuser:/bin/sh"], group: ["ldapgroup:*:6000:"] }[db] || [];
const row = known.find((l) => l.split(":")[0] === key || l.split(":")[2] === key);
if (sep !== "--") process.exit(1);
if (!row) process.exit(2);
process.stdout.write(row + "\\n");
`,
    { mode: 0o755 },
  );
  return log;
}

function loadAccounts(world: World) {
  process.env.VIRTIO_FS_ROOT = world.root;
  process.env.VIRTIO_FS_BIN_DIR = world.bin;
  let mod: typeof import("../../src/runtime/accounts") | undefined;
  jest.isolateModules(() => {
    mod = require("../../src/runtime/accounts");
  });
  return mod!;
}

describe("owners and groups come from NSS (getent)", () => {
  const saved = { root: process.env.VIRTIO_FS_ROOT, bin: process.env.VIRTIO_FS_BIN_DIR };
  afterEach(() => {
    for (const [k, v] of [
      ["VIRTIO_FS_ROOT", saved.root],
      ["VIRTIO_FS_BIN_DIR", saved.bin],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test("a directory-service user/group resolves through getent, with -- before the key", () => {
    w = makeWorld();
    const log = nssGetent(w);
    const a = loadAccounts(w);
    expect(a.lookupUid("ldapuser")).toBe(5000);
    expect(a.lookupGid("ldapgroup")).toBe(6000);
    expect(a.userName(5000)).toBe("ldapuser");
    expect(a.groupName(6000)).toBe("ldapgroup");
    expect(a.lookupUid("-s")).toBeUndefined();
    expect(a.lookupUid("alice")).toBeUndefined(); // getent said "no such user": the files are not asked
    expect(fs.readFileSync(log, "utf8")).toContain(JSON.stringify(["passwd", "--", "-s"]));
  });

  test("numeric ids are ids, as ansible.builtin.file takes them", () => {
    w = makeWorld();
    nssGetent(w);
    const a = loadAccounts(w);
    expect(a.lookupUid("4321")).toBe(4321);
    expect(a.lookupGid("0")).toBe(0);
  });

  test("without getent on the guest, /etc/passwd and /etc/group are read", () => {
    w = makeWorld({ users: { bob: 4242 }, groups: { devs: 4343 } });
    fs.rmSync(path.join(w.bin, "getent"));
    const a = loadAccounts(w);
    expect(a.lookupUid("bob")).toBe(4242);
    expect(a.lookupGid("devs")).toBe(4343);
    expect(a.userName(4242)).toBe("bob");
    expect(a.lookupUid("ldapuser")).toBeUndefined();
  });

  test("the harness getent answers from the fake root's files (names and ids)", () => {
    w = makeWorld({ users: { carol: 3131 } });
    const a = loadAccounts(w);
    expect(a.lookupUid("carol")).toBe(3131);
    expect(a.userName(3131)).toBe("carol");
    expect(a.lookupUid("nobody_here")).toBeUndefined();
  });

  // The schema's owner/group pattern refuses numeric ids today ("6000"), so the module test uses names.
  test("virtio_fs_mount plans a mount point for an NSS-only owner and group", () => {
    w = makeWorld();
    nssGetent(w);
    const mp = path.join(w.mnt, "ldap");
    const r = w.run("virtio_fs_mount", {
      mounts: [{ tag: "t", mount_point: mp, owner: "ldapuser", group: "ldapgroup" }],
      fstab: w.fstab,
      load_module: false,
      _ansible_check_mode: true,
    }).result;
    expect(r.failed).toBeFalsy();
    expect(r.mounts[0].actions).toContainEqual({
      action: "create_dir",
      why: "mount point is missing; created as ldapuser:ldapgroup 0755",
    });
  });
});
