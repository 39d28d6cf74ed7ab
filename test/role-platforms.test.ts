// The roles' platform variables chosen by a real ansible-playbook run against faked facts: one local
// host per target platform of schemas/collection.json, whose facts a stand-in module sets the way
// setup does, then each role's tasks/set_vars.yml. And the guest role's Node.js check before its first
// module call, against stand-in node binaries.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT, tmpDir, tool } from "./helpers/tools";
import { loadSchema } from "../src/schema/load";
import { buildIr } from "../src/ir/build";
import { checkIr } from "../src/ir/check";
import { platformValue } from "../src/emit/role/platform-vars";

const env = { ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection") };
const ir = checkIr(buildIr(loadSchema(ROOT)));
const dir = tmpDir("platforms");

/** Sets ansible_facts as setup does (a module result's ansible_facts become the host's facts). */
const FAKE_FACTS_MODULE = `#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

def main():
    module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}}, supports_check_mode=True)
    module.exit_json(changed=False, ansible_facts={"ansible_" + k: v for k, v in module.params["facts"].items()})

main()
`;

const PLATFORM_VARIABLES = [
  "virtio_fs_packages",
  "virtio_fs_nodejs_package",
  "virtio_fs_virtiofsd_candidates",
  "virtio_fs_qemu_path",
  "virtio_fs_virtiofsd_package",
  "virtio_fs_qemu_package",
  "virtio_fs_libvirt_package",
];

/** Runs `tasks` on one local host per entry of `hosts` (name -> host vars); returns what each recorded. */
async function play(
  name: string,
  hosts: Record<string, Record<string, unknown>>,
  tasks: unknown[],
  extra: string[] = [],
): Promise<{ exitCode: number; all: string; recorded: Record<string, Record<string, unknown>> }> {
  const work = path.join(dir, name);
  fs.mkdirSync(path.join(work, "library"), { recursive: true });
  fs.writeFileSync(path.join(work, "library/fake_facts.py"), FAKE_FACTS_MODULE);
  const inventory = {
    all: {
      hosts: Object.fromEntries(
        Object.entries(hosts).map(([h, vars]) => [
          h,
          { ansible_connection: "local", ansible_python_interpreter: path.join(ROOT, ".venv/bin/python"), ...vars },
        ]),
      ),
    },
  };
  fs.writeFileSync(path.join(work, "inventory.yml"), yaml.dump(inventory));
  const record = {
    "ansible.builtin.copy": {
      content: "{{ recorded | to_json }}",
      dest: `${work}/out-{{ inventory_hostname }}.json`,
      mode: "0644",
    },
    delegate_to: "localhost",
  };
  fs.writeFileSync(
    path.join(work, "play.yml"),
    yaml.dump([{ hosts: "all", gather_facts: false, tasks: [...tasks, record] }]),
  );
  const r = await tool("ansible-playbook", ["-i", "inventory.yml", "play.yml", ...extra], { env, cwd: work });
  const recorded: Record<string, Record<string, unknown>> = {};
  for (const h of Object.keys(hosts)) {
    const out = path.join(work, `out-${h}.json`);
    if (fs.existsSync(out)) recorded[h] = JSON.parse(fs.readFileSync(out, "utf8"));
  }
  return { exitCode: r.exitCode ?? -1, all: r.all ?? "", recorded };
}

const setVars = (role: string) => ({
  "ansible.builtin.include_role": { name: `ai_how.virtio_fs.${role}`, tasks_from: "set_vars", public: true },
});

describe("platform variables", () => {
  const hostName = (i: number) => `platform${i}`;
  let run: Awaited<ReturnType<typeof play>>;
  beforeAll(async () => {
    const hosts = Object.fromEntries(ir.collection.targetPlatforms.map((p, i) => [hostName(i), { fake: p.facts }]));
    run = await play("choose", hosts, [
      { fake_facts: { facts: "{{ fake }}" } },
      setVars("virtio_fs_mount"),
      setVars("virtio_fs_host"),
      {
        "ansible.builtin.set_fact": {
          recorded: Object.fromEntries(PLATFORM_VARIABLES.map((v) => [v, `{{ ${v} }}`])),
        },
      },
    ]);
    if (run.exitCode !== 0) throw new Error(run.all);
  }, 180_000);

  it("covers every platform-dependent variable of both roles", () => {
    const platformDependent = ir.roles.flatMap((r) => r.variables.filter((v) => v.platformValues).map((v) => v.name));
    expect([...platformDependent].sort()).toEqual([...PLATFORM_VARIABLES].sort());
  });

  it("chooses each target platform's package names and paths from its facts", () => {
    const got = Object.fromEntries(ir.collection.targetPlatforms.map((p, i) => [p.name, run.recorded[hostName(i)]]));
    // written out, not derived: what a user of each platform needs
    const expected: Record<string, Partial<Record<(typeof PLATFORM_VARIABLES)[number], unknown>>> = {
      "Debian 12 (bookworm)": {
        virtio_fs_nodejs_package: "nodejs",
        virtio_fs_virtiofsd_candidates: ["/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"],
        virtio_fs_virtiofsd_package: "qemu-system-common",
        virtio_fs_qemu_path: "/usr/bin/qemu-system-x86_64",
        virtio_fs_libvirt_package: "libvirt-daemon-system",
      },
      "Debian 13 (trixie)": {
        virtio_fs_nodejs_package: "nodejs",
        virtio_fs_virtiofsd_candidates: ["/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"],
        virtio_fs_virtiofsd_package: "virtiofsd",
      },
      "Ubuntu 24.04 LTS": { virtio_fs_nodejs_package: "nodejs", virtio_fs_virtiofsd_package: "virtiofsd" },
      Fedora: {
        virtio_fs_nodejs_package: "nodejs",
        virtio_fs_virtiofsd_candidates: ["/usr/libexec/virtiofsd"],
        virtio_fs_qemu_path: "/usr/bin/qemu-system-x86_64",
        virtio_fs_qemu_package: "qemu-system-x86",
        virtio_fs_libvirt_package: "libvirt-daemon-kvm",
      },
      "RHEL 9, Rocky Linux 9, AlmaLinux 9": {
        virtio_fs_nodejs_package: "@nodejs:20/common",
        virtio_fs_virtiofsd_candidates: ["/usr/libexec/virtiofsd"],
        virtio_fs_qemu_path: "/usr/libexec/qemu-kvm",
        virtio_fs_qemu_package: "qemu-kvm",
      },
      "RHEL 10, Rocky Linux 10, AlmaLinux 10": {
        virtio_fs_nodejs_package: "nodejs",
        virtio_fs_qemu_path: "/usr/libexec/qemu-kvm",
        virtio_fs_virtiofsd_package: "virtiofsd",
      },
      "openSUSE Leap 15, SLES 15": {
        virtio_fs_nodejs_package: "nodejs20",
        virtio_fs_qemu_package: "qemu-x86",
        virtio_fs_libvirt_package: "libvirt-daemon-qemu",
      },
      "Arch Linux": {
        virtio_fs_nodejs_package: "nodejs",
        virtio_fs_virtiofsd_candidates: ["/usr/lib/virtiofsd"],
        virtio_fs_libvirt_package: "libvirt",
      },
    };
    expect(Object.keys(got)).toEqual(Object.keys(expected));
    for (const [name, values] of Object.entries(expected)) {
      expect([name, got[name]]).toEqual([name, expect.objectContaining(values)]);
      expect([name, got[name].virtio_fs_packages]).toEqual([name, ["fuse3", "util-linux"]]);
    }
  });

  it("chooses what the role READMEs document for each platform", () => {
    const fields = ir.roles.flatMap((r) => r.variables.filter((v) => v.platformValues));
    ir.collection.targetPlatforms.forEach((p, i) => {
      const documented = Object.fromEntries(fields.map((f) => [f.name, platformValue(f, p.facts)]));
      expect([p.name, run.recorded[hostName(i)]]).toEqual([p.name, documented]);
    });
  });

  it("lets a variable the user sets win over the platform's choice", async () => {
    const rocky = ir.collection.targetPlatforms.find((p) => p.facts.distribution === "Rocky")!;
    const r = await play("override", { rocky: { fake: rocky.facts, virtio_fs_nodejs_package: "nodejs22" } }, [
      { fake_facts: { facts: "{{ fake }}" } },
      setVars("virtio_fs_mount"),
      setVars("virtio_fs_host"),
      {
        "ansible.builtin.set_fact": {
          recorded: { node: "{{ virtio_fs_nodejs_package }}", qemu: "{{ virtio_fs_qemu_path }}" },
        },
      },
    ]);
    expect(r.recorded.rocky).toEqual({ node: "nodejs22", qemu: "/usr/libexec/qemu-kvm" });
  }, 120_000);

  it("gathers the facts itself when the play did not, and never loads a file a fact names", async () => {
    // the controller is this host: whatever it runs, the facts are real and name no generated file
    // except by design; a hostile distribution fact must not reach include_vars as a path
    const r = await play(
      "gather",
      {
        real: {},
        hostile: { fake: { os_family: "../../../etc", distribution: "x/../RedHat", distribution_major_version: "9" } },
      },
      [
        { fake_facts: { facts: "{{ fake }}" }, when: "fake is defined" },
        setVars("virtio_fs_host"),
        {
          "ansible.builtin.set_fact": {
            recorded: { family: "{{ ansible_facts.os_family }}", qemu: "{{ virtio_fs_qemu_path }}" },
          },
        },
      ],
    );
    expect(r.exitCode).toBe(0);
    expect(typeof r.recorded.real.family).toBe("string");
    expect(r.recorded.hostile).toEqual({ family: "../../../etc", qemu: "/usr/bin/qemu-system-x86_64" });
  }, 120_000);
});

describe("the host preflight's install hints", () => {
  it("names this platform's libvirt package when libvirt cannot be asked", async () => {
    const rocky = ir.collection.targetPlatforms.find((p) => p.facts.distribution === "Rocky")!;
    const r = await play("hints", { rocky: { fake: rocky.facts } }, [
      { fake_facts: { facts: "{{ fake }}" } },
      {
        "ansible.builtin.include_role": { name: "ai_how.virtio_fs.virtio_fs_host" },
        vars: {
          // a socket nobody listens on: virsh fails however the machine running the test is set up
          virtio_fs_libvirt_uri: `qemu+unix:///system?socket=${dir}/no-such-socket`,
          virtio_fs_virtiofsd_candidates: [process.execPath],
        },
      },
    ]);
    // the first fatal line is the command the rescue catches; the last is what the user reads
    const fatal =
      r.all
        .split("\n")
        .filter((l) => l.startsWith("fatal: [rocky]"))
        .pop() ?? r.all;
    expect(fatal).toContain("version --daemon failed (");
    expect(fatal).toContain("on Rocky 9 install the package libvirt-daemon-kvm and start libvirtd");
  }, 120_000);
});

describe("x-platform-values in the schema", () => {
  function check(mutate: (props: Record<string, Record<string, unknown>>) => void): string {
    const loaded = loadSchema(ROOT);
    const schema = structuredClone(loaded.schema);
    mutate(schema.properties as Record<string, Record<string, unknown>>);
    try {
      checkIr(buildIr({ ...loaded, schema }));
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  }

  it("accepts the schema as it is", () => expect(check(() => undefined)).toBe(""));

  it("refuses a vars file name that is no file name, and a value that breaks the variable's own schema", () => {
    const msg = check((p) => {
      p.virtio_fs_qemu_path["x-platform-values"] = { "../etc": "/usr/bin/qemu", RedHat: "relative/qemu" };
    });
    expect(msg).toContain('x-platform-values key "../etc" of "virtio_fs_qemu_path" is no vars file name');
    expect(msg).toContain(
      'x-platform-values RedHat "relative/qemu" of "virtio_fs_qemu_path" does not fit its own schema',
    );
    expect(msg).toContain("/properties/virtio_fs_qemu_path");
  });

  it("refuses platform values on anything but a role variable", () => {
    const loaded = loadSchema(ROOT);
    const schema = structuredClone(loaded.schema);
    const defs = schema.$defs as Record<string, { properties: Record<string, Record<string, unknown>> }>;
    defs.share.properties.owner["x-platform-values"] = { RedHat: "root" };
    expect(() => checkIr(buildIr({ ...loaded, schema }))).toThrow(/only a role variable can have x-platform-values/);
  });
});

describe("the guest role's Node.js check", () => {
  function fakeNode(name: string, output: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n[ "$1" = --version ] && printf '%s\\n' '${output}'\n`, { mode: 0o755 });
    return file;
  }

  function hungNode(): string {
    const file = path.join(dir, "hung-node");
    fs.writeFileSync(file, "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    return file;
  }

  it("accepts Node.js from the minimum on and names the version found, and the fix, below it", async () => {
    const hosts = {
      node12: { ansible_node_interpreter: fakeNode("node12", "v12.22.12") },
      node18: { ansible_node_interpreter: fakeNode("node18", "v18.19.0") },
      node22: { ansible_node_interpreter: fakeNode("node22", "v22.11.0") },
      garbled: { ansible_node_interpreter: fakeNode("garbled", "Segmentation fault") },
      missing: { ansible_node_interpreter: path.join(dir, "no-such-node") },
      hung: { ansible_node_interpreter: hungNode(), virtio_fs_node_check_timeout: 2 },
    };
    const r = await play("node", hosts, [
      {
        "ansible.builtin.include_role": { name: "ai_how.virtio_fs.virtio_fs_mount", tasks_from: "node" },
        vars: { virtio_fs_install_nodejs: false },
      },
      { "ansible.builtin.set_fact": { recorded: { ok: true } } },
    ]);
    expect(Object.keys(r.recorded).sort()).toEqual(["node18", "node22"]);
    expect(ir.collection.nodeMinVersion).toBe("18");
    const failures = r.all.split("\n").filter((l) => l.startsWith("fatal:"));
    const line = (h: string) => failures.find((l) => l.startsWith(`fatal: [${h}]`)) ?? "";
    expect(line("node12")).toContain(
      "need Node.js >= 18 on the guest, but " + hosts.node12.ansible_node_interpreter + " reports v12.22.12",
    );
    expect(line("node12")).toContain("set ansible_node_interpreter to a Node.js >= 18");
    expect(line("garbled")).toContain("reports Segmentation fault");
    expect(line("hung")).toMatch(/time/);
    expect(line("missing")).toContain("but there is no " + hosts.missing.ansible_node_interpreter);
  }, 120_000);
});
