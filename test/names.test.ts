import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as jsyaml from "js-yaml";
import { main } from "../src/cli";
import { bundle, runBundle } from "./runtime/harness";
import { tmpDir } from "./helpers/tools";

// Names from the configuration become libvirt domain names, file names, virsh arguments, inventory
// hosts and groups, and mount(8) arguments (tags). Hostile ones are refused with exit 1 or mapped
// deterministically; none may crash the CLI (exit 70) or produce an invalid inventory.

const dir = tmpDir("names");

/** Runs the CLI in this process (fast enough for hundreds of inputs), capturing both streams. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = jest
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = jest
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let n = 0;
/** A cluster file as JSON (which is YAML), so any string is a key without quoting questions. */
function clusterFile(clusters: Record<string, Record<string, unknown>>): string {
  const file = path.join(dir, `c${n++}.yml`);
  fs.writeFileSync(file, JSON.stringify({ clusters }));
  return file;
}

const vm = {
  cpu_cores: 2,
  ip_address: "10.0.0.1",
  virtio_fs_mounts: [{ tag: "data", host_path: "/data", mount_point: "/mnt/data" }],
};

/** Parses an inventory the way Ansible's YAML loader does for our purposes: !unsafe strings are strings. */
const UNSAFE = new jsyaml.Type("!unsafe", { kind: "scalar", construct: (s: string | null) => s ?? "" });
function loadInventory(text: string): {
  all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> };
} {
  return jsyaml.load(text, { schema: jsyaml.DEFAULT_SCHEMA.extend([UNSAFE]) }) as never;
}

const ANSIBLE_GROUP = /^[A-Za-z_][A-Za-z0-9_]*$/;

const HOSTILE = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "__defineGetter__",
  "2024",
  "0",
  "-x",
  "--all",
  "all",
  "ungrouped",
  "_",
  ".",
  "..",
  "a/b",
  "../../etc",
  "x --><!DOCTYPE y>",
  "a b",
  "a\nb",
  "a\tb",
  "héllo",
  "日本",
  "ÅÄÖ",
  "a&b",
  "a<b",
  "a'b",
  'a"b',
  "{{ 7 * 7 }}",
  "$(id)",
  "`id`",
  "a;b",
  "",
  " ",
  "a".repeat(201),
  "\u0000",
  "\u202e",
  "a+b",
  "a.b",
  "A_B",
];

describe("cluster and VM names", () => {
  it.each(HOSTILE)(
    "cluster and VM named %j: exit 0 or 1 for validate, render and inventory, never 70",
    async (name) => {
      const file = clusterFile({ [name]: { [name]: vm, ok: vm }, ok: { [name]: vm } });
      for (const cmd of ["validate", "render", "inventory"]) {
        const r = await cli([cmd, file]);
        expect([0, 1]).toContain(r.code);
        expect(r.stderr).not.toContain("internal error");
        if (r.code === 1) expect(r.stderr).toMatch(/error\[VFS\d+\]/);
        if (cmd === "inventory" && r.code === 0) {
          const { hypervisors, ...groups } = loadInventory(r.stdout).all.children;
          for (const g of Object.keys(groups)) expect(g).toMatch(ANSIBLE_GROUP);
          expect(Object.values(groups).reduce((k, g) => k + Object.keys(g.hosts).length, 0)).toBe(3);
          expect(Object.keys(hypervisors.hosts)).toEqual(["localhost"]);
          expect(hypervisors.hosts.localhost.virtio_fs_host_domains).toHaveLength(3);
        }
      }
    },
  );

  it("keeps names that are Object.prototype members as plain groups and hosts", async () => {
    // JSON.parse makes __proto__ an own key (an object literal would set the prototype instead)
    const clusters = JSON.parse(
      `{"__proto__": {"constructor": ${JSON.stringify(vm)}}, "toString": {"__proto__": ${JSON.stringify(vm)}}, "2024": {"hasOwnProperty": ${JSON.stringify(vm)}}}`,
    );
    const r = await cli(["inventory", clusterFile(clusters)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const groups = loadInventory(r.stdout).all.children;
    // JSON keys that look like integers come first in a JS object, so 2024 is read first
    expect(Object.keys(groups)).toEqual(["hypervisors", "_2024", "__proto__", "toString"]);
    expect(Object.keys(groups["__proto__"].hosts)).toEqual(["__proto__-constructor"]);
    expect(Object.keys(groups["toString"].hosts)).toEqual(["toString-__proto__"]);
    expect(Object.keys(groups._2024.hosts)).toEqual(["2024-hasOwnProperty"]);
  });

  it.each(HOSTILE)(
    "hypervisor named %j: exit 0 or 1, never 70; on 0 the hypervisors group has that host",
    async (name) => {
      const r = await cli(["inventory", clusterFile({ hpc: { a: { ...vm, hypervisor: name } } })]);
      expect([0, 1]).toContain(r.code);
      expect(r.stderr).not.toContain("internal error");
      if (r.code === 1) expect(r.stderr).toMatch(/error\[VFS0(05|11|14|37|38)\] \/clusters\/hpc\/a\/hypervisor: /);
      else {
        const { hypervisors } = loadInventory(r.stdout).all.children;
        expect(Object.keys(hypervisors.hosts)).toEqual([name]);
        expect(hypervisors.hosts[name].virtio_fs_host_domains).toEqual([
          { name: "hpc-a", mounts: vm.virtio_fs_mounts },
        ]);
      }
    },
  );

  it("refuses names with characters outside the domain name rule, located at the key", async () => {
    for (const name of ["x --><!DOCTYPE y>", "a/b", "a b", "héllo", "-x", ".hidden"]) {
      const r = await cli(["render", clusterFile({ hpc: { [name]: vm } })]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(
        `:1:21: error[VFS028] /clusters/hpc/${name.replace(/\//g, "~1")}: VM name ${JSON.stringify(name)} is not valid`,
      );
    }
  });

  it("reports colliding full names and inventory groups with both pointers", async () => {
    const full = await cli(["validate", clusterFile({ a: { "b-c": vm }, "a-b": { c: vm } })]);
    expect(full.code).toBe(1);
    expect(full.stderr).toContain(
      'error[VFS031] /clusters/a-b/c: VM full name "a-b-c" (<cluster>-<vm>) is also the full name of /clusters/a/b-c',
    );
    const group = await cli(["inventory", clusterFile({ "a-b": { x: vm }, a_b: { y: vm } })]);
    expect(group.code).toBe(1);
    expect(group.stdout).toBe("");
    expect(group.stderr).toContain(
      'error[VFS032] /clusters/a_b: cluster name "a_b" becomes the inventory group "a_b", as does the cluster at /clusters/a-b',
    );
  });

  it("property: any cluster and VM names give exit 0 or 1; on 0 the inventory has valid, distinct groups and every VM", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom(...HOSTILE)),
          fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...HOSTILE)), fc.constant(vm), { maxKeys: 3 }),
          { maxKeys: 4 },
        ),
        async (clusters) => {
          const file = clusterFile(clusters);
          const r = await cli(["inventory", file]);
          expect([0, 1]).toContain(r.code);
          if (r.code === 0) {
            const { hypervisors, ...groups } = loadInventory(r.stdout).all.children;
            for (const g of Object.keys(groups)) expect(g).toMatch(ANSIBLE_GROUP);
            const vms = Object.values(clusters).reduce((k, c) => k + Object.keys(c).length, 0);
            expect(Object.values(groups).reduce((k, g) => k + Object.keys(g.hosts).length, 0)).toBe(vms);
            // every VM is a domain of the (default) hypervisor, once
            const domains = vms ? (hypervisors.hosts.localhost.virtio_fs_host_domains as { name: string }[]) : [];
            const hosts = Object.values(groups).flatMap((g) => Object.keys(g.hosts));
            expect(domains.map((d) => d.name).sort()).toEqual(hosts.sort());
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("names in module arguments", () => {
  it("virtio_fs_mount refuses a tag that starts with - before running anything", () => {
    for (const tag of ["--bind", "-a", "-"]) {
      const { result } = runBundle(
        bundle("virtio_fs_mount"),
        JSON.stringify({ mounts: [{ tag, mount_point: "/mnt/x" }] }),
      );
      expect(result.failed).toBe(true);
      expect(result.msg).toContain(
        `/mounts/0/tag: expected a tag that does not start with - (mount(8) would read it as an option), got ${JSON.stringify(tag)}`,
      );
    }
  });

  it("virtio_fs_domain refuses a domain name virsh would read as an option", () => {
    const { result } = runBundle(bundle("virtio_fs_domain"), JSON.stringify({ name: "--all", mounts: [] }));
    expect(result.failed).toBe(true);
    expect(result.msg).toContain(
      '/name: expected a libvirt domain name of A-Z a-z 0-9 . _ + - that starts with a letter, digit or _, got "--all"',
    );
  });
});
