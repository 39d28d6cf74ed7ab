// The host role's virtiofsd preflight and its choice of read-only mechanism, run with ansible-playbook
// on localhost against stand-in virtiofsd binaries: the first candidate that exists is used, and only
// the Rust virtiofsd from 1.13 (which has --readonly) lets auto choose <readonly/>, and only on libvirt 11.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { COLLECTION, ROOT, tmpDir, tool } from "./helpers/tools";

const env = { ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection") };
const dir = tmpDir("preflight");

function fakeVirtiofsd(name: string, version: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `#!/bin/sh\ncase $1 in --version) printf '%s\\n' '${version}' ;; --print-capabilities) echo '{"type": "fs"}' ;; esac\n`,
    { mode: 0o755 },
  );
  return file;
}

async function play(tasks: unknown[], vars: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}.json`);
  const file = path.join(dir, `play-${Math.random().toString(36).slice(2)}.yml`);
  const record = { "ansible.builtin.copy": { content: "{{ recorded | to_json }}", dest: out, mode: "0644" } };
  fs.writeFileSync(
    file,
    yaml.dump([{ hosts: "localhost", connection: "local", gather_facts: false, vars, tasks: [...tasks, record] }]),
  );
  const r = await tool("ansible-playbook", ["-i", "localhost,", file], { env });
  if (r.exitCode !== 0) throw new Error(r.all);
  return JSON.parse(fs.readFileSync(out, "utf8"));
}

describe("host preflight", () => {
  it("uses the first virtiofsd that exists and knows which one has --readonly", async () => {
    const cases: [string, boolean][] = [
      ["virtiofsd 1.13.2", true],
      ["virtiofsd 1.14.0", true],
      ["virtiofsd 1.12.0", false],
      ["virtiofsd version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022", false],
      ["virtiofsd 2.0", true],
      ["not virtiofsd 9.9", false],
    ];
    for (const [i, [version, readonly]] of cases.entries()) {
      const bin = fakeVirtiofsd(`virtiofsd-${i}`, version);
      const got = await play(
        [{ "ansible.builtin.include_role": { name: "ai_how.virtio_fs.virtio_fs_host", tasks_from: "virtiofsd" } }],
        {
          virtio_fs_virtiofsd_candidates: [
            path.join(dir, "missing"),
            bin,
            fakeVirtiofsd(`later-${i}`, "virtiofsd 9.0"),
          ],
          recorded: {
            path: "{{ virtio_fs_host_virtiofsd }}",
            readonly: "{{ virtio_fs_host_virtiofsd_readonly | bool }}",
          },
        },
      );
      expect([version, got]).toEqual([version, { path: bin, readonly }]);
    }
  });

  it("resolves auto to <readonly/> only with libvirt 11 and a virtiofsd that has --readonly", async () => {
    const main = yaml.load(fs.readFileSync(path.join(COLLECTION, "roles/virtio_fs_host/tasks/main.yml"), "utf8")) as {
      name: string;
      "ansible.builtin.set_fact"?: Record<string, string>;
    }[];
    const choose = main.find((t) => t.name === "Choose how read-only shares are enforced")!;
    const expr = choose["ansible.builtin.set_fact"]!.virtio_fs_host_readonly_mechanism;
    const combos: [string, string, boolean, string][] = [
      ["auto", "9.0.0", false, "wrapper"],
      ["auto", "9.0.0", true, "wrapper"],
      ["auto", "11.3.0", false, "wrapper"],
      ["auto", "11.3.0", true, "readonly"],
      ["wrapper", "11.3.0", true, "wrapper"],
      ["guest", "11.3.0", true, "guest"],
      ["readonly", "9.0.0", false, "readonly"],
    ];
    const recorded: Record<string, string> = {};
    const tasks = combos.map(([mechanism, libvirt, rust], i) => ({
      "ansible.builtin.set_fact": { [`r${i}`]: expr },
      vars: {
        virtio_fs_readonly_mechanism: mechanism,
        virtio_fs_host_libvirt_detected: libvirt,
        virtio_fs_host_virtiofsd_readonly: rust,
      },
    }));
    combos.forEach((_, i) => (recorded[`r${i}`] = `{{ r${i} }}`));
    const got = await play(tasks, { recorded });
    expect(combos.map((c, i) => [...c.slice(0, 3), got[`r${i}`]])).toEqual(combos);
  });
});
