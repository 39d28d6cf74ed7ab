// virtio_fs_domain and shared memory (issue 9): it agrees with libvirt's own check
// (qemuValidateDomainDefVhostUserRequireSharedMemory): a backing already shared is kept as it is,
// missing access is added, and an explicit private access (domain-level, or a NUMA cell's memAccess,
// which overrides it) is refused: never "configured" for a domain libvirt would not start.
import * as fs from "fs";
import * as path from "path";
import { makeWorld, type World } from "./harness";

let w: World;
afterEach(() => w?.cleanup());

const share = { tag: "data", host_path: "/srv/data", mount_point: "/mnt/data" };

function domain(memory: string, cpu = ""): string {
  return `<domain type='kvm'>
  <name>vm</name>
  <memory unit='KiB'>2097152</memory>
${memory}  <vcpu placement='static'>2</vcpu>
${cpu}  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
`;
}

const cells = (...access: (string | undefined)[]) => `  <cpu mode='host-passthrough'>
    <numa>
${access.map((a, i) => `      <cell id='${i}' cpus='${i}' memory='1048576' unit='KiB'${a ? ` memAccess='${a}'` : ""}/>\n`).join("")}    </numa>
  </cpu>
`;

function run(xml: string) {
  w = makeWorld();
  const p = path.join(w.dir, "vm.xml");
  fs.writeFileSync(p, xml);
  const { result } = w.run("virtio_fs_domain", { xml_path: p, mounts: [share] });
  return { result, after: fs.readFileSync(p, "utf8") };
}

const memoryBacking = (xml: string) => /<memoryBacking>[\s\S]*?<\/memoryBacking>|<memoryBacking\/>/.exec(xml)?.[0];

describe("a backing that is already shared is kept", () => {
  const kept: [string, string][] = [
    ["file-backed", "  <memoryBacking>\n    <source type='file'/>\n    <access mode='shared'/>\n  </memoryBacking>\n"],
    [
      "hugepages",
      "  <memoryBacking>\n    <hugepages>\n      <page size='2048' unit='KiB'/>\n    </hugepages>\n    <access mode='shared'/>\n  </memoryBacking>\n",
    ],
    [
      "hugepages + file",
      "  <memoryBacking>\n    <hugepages/>\n    <source type='file'/>\n    <access mode='shared'/>\n    <allocation mode='immediate'/>\n  </memoryBacking>\n",
    ],
    [
      "anonymous",
      "  <memoryBacking>\n    <source type='anonymous'/>\n    <access mode='shared'/>\n  </memoryBacking>\n",
    ],
    [
      "memfd + locked",
      "  <memoryBacking>\n    <locked/>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n",
    ],
  ];
  test.each(kept)("%s", (_, mb) => {
    const { result, after } = run(domain(mb));
    expect(result.failed).toBeUndefined();
    expect(result.memory_backing_changed).toBe(false);
    expect(after).toContain(mb);
  });

  test("every NUMA cell memAccess='shared' and no domain-level access: nothing added", () => {
    const { result, after } = run(domain("", cells("shared", "shared")));
    expect(result.failed).toBeUndefined();
    expect(result.memory_backing_changed).toBe(false);
    expect(after).not.toContain("memoryBacking");
  });

  test("private domain-level access overridden by every cell's memAccess='shared': accepted as libvirt does", () => {
    const mb = "  <memoryBacking>\n    <access mode='private'/>\n  </memoryBacking>\n";
    const { result, after } = run(domain(mb, cells("shared")));
    expect(result.failed).toBeUndefined();
    expect(after).toContain(mb);
  });
});

describe("missing shared access is added, the backing chosen is kept", () => {
  const cases: [string, string, string][] = [
    [
      "no memoryBacking: memfd, as the template writes",
      "",
      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    ],
    [
      "file-backed without access",
      "  <memoryBacking>\n    <source type='file'/>\n  </memoryBacking>\n",
      "<memoryBacking>\n    <source type='file'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    ],
    [
      "hugepages without source or access",
      "  <memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n",
      "<memoryBacking>\n    <hugepages/>\n    <access mode='shared'/>\n  </memoryBacking>",
    ],
    [
      "<access/> without mode",
      "  <memoryBacking>\n    <source type='memfd'/>\n    <access/>\n  </memoryBacking>\n",
      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    ],
  ];
  test.each(cases)("%s", (_, mb, expected) => {
    const { result, after } = run(domain(mb));
    expect(result.failed).toBeUndefined();
    expect(result.memory_backing_changed).toBe(true);
    expect(memoryBacking(after)).toBe(expected);
  });

  test("NUMA cells without memAccess take the domain-level access, which is added", () => {
    const { result, after } = run(domain("", cells(undefined, "shared")));
    expect(result.failed).toBeUndefined();
    expect(memoryBacking(after)).toBe(
      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    );
    expect(after).toContain("memAccess='shared'/>");
  });
});

describe("an explicit private access is refused with a message, nothing is written", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "a NUMA cell memAccess='private' over a shared memfd backing",
      "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n",
      cells("shared", "private"),
      /NUMA cell 1 \(<cpu><numa><cell>\) has memAccess='private', which overrides <memoryBacking><access> for that cell; .*requires shared memory.*set memAccess='shared' or remove it/,
    ],
    [
      "domain-level <access mode='private'/>",
      "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='private'/>\n  </memoryBacking>\n",
      "",
      /<memoryBacking><access mode='private'\/> is set; virtio-fs needs the guest memory shared.*change it to <access mode='shared'\/> or remove it/,
    ],
    [
      "domain-level private with a cell that inherits it",
      "  <memoryBacking>\n    <access mode='private'/>\n  </memoryBacking>\n",
      cells("shared", undefined),
      /<access mode='private'\/> is set/,
    ],
    ["a memAccess libvirt does not know", "", cells("SHARED"), /memAccess='SHARED'/],
  ];
  test.each(cases)("%s", (_, mb, cpu, message) => {
    const before = domain(mb, cpu);
    const { result, after } = run(before);
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    expect(result.msg).toMatch(message);
    expect(after).toBe(before);
  });

  test("no wanted share: a private domain is left alone", () => {
    w = makeWorld();
    const p = path.join(w.dir, "vm.xml");
    const before = domain("", cells("private"));
    fs.writeFileSync(p, before);
    const { result } = w.run("virtio_fs_domain", { xml_path: p, mounts: [{ ...share, state: "absent" }] });
    expect(result.failed).toBeUndefined();
    expect(result.changed).toBe(false);
    expect(fs.readFileSync(p, "utf8")).toBe(before);
  });
});
