import * as fs from "fs";
import * as path from "path";
import { callsOf, makeWorld, type World } from "./harness";
import { parseXml, serializeXml } from "../../src/runtime/domain-xml";
import { editDomainXml, parseVirshVersion } from "../../src/runtime/modules/virtio_fs_domain";

let w: World;
afterEach(() => w?.cleanup());

const HEAD = `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST.
-->
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>ctl</name>
  <uuid>6f1b3c1e-1111-2222-3333-444455556666</uuid>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
`;
const TAIL_DEVICES = `    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22'/>
  </qemu:commandline>
</domain>
`;
const PLAIN = `${HEAD}  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/ctl.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
${TAIL_DEVICES}`;

const NINEP = `    <filesystem type='mount' accessmode='mapped'>
      <source dir='/srv/9p'/>
      <target dir='ninep'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </filesystem>
`;
const OLD_VIRTIOFS = `    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <source dir='/data/old'/>
      <target dir='old'/>
      <alias name='fs1'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </filesystem>
`;
const DS_VIRTIOFS = `    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='512'/>
      <binary path='/usr/libexec/virtiofsd' xattr='on'>
        <cache mode='always'/>
        <lock posix='off' flock='off'/>
      </binary>
      <source dir='/data/ds'/>
      <target dir='datasets'/>
      <alias name='fs2'/>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
    </filesystem>
`;
const SHARED = `${HEAD}  <memoryBacking>
    <hugepages/>
    <source type='file'/>
  </memoryBacking>
  <vcpu placement='static'>2</vcpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${NINEP}${OLD_VIRTIOFS}${DS_VIRTIOFS}${TAIL_DEVICES}`;

function writeXml(world: World, text: string): string {
  const p = path.join(world.dir, "ctl.xml");
  fs.writeFileSync(p, text);
  return p;
}

const ds = { tag: "datasets", host_path: "/data/ds", mount_point: "/mnt/ds" };

describe("domain XML serialisation", () => {
  test("unchanged libvirt XML serialises back byte for byte", () => {
    for (const x of [PLAIN, SHARED]) expect(serializeXml(parseXml(x), { trailingNewline: true })).toBe(x);
  });
  test("escapes in text and attributes survive", () => {
    const x = `<domain><description>a &amp; b &lt;c&gt; "d" it's</description><x a='it&apos;s &amp; &lt;'/></domain>`;
    expect(serializeXml(parseXml(x))).toBe(x);
  });
  test("malformed XML is refused", () => {
    expect(() => parseXml("<domain><devices></domain>")).toThrow(/not well-formed/);
  });
  test("virsh version output is parsed", () => {
    expect(parseVirshVersion("Compiled against library: libvirt 9.0.0\nRunning against daemon: 11.2.0\n")).toBe(
      "11.2.0",
    );
    expect(parseVirshVersion("Using library: libvirt 10.0.0\n")).toBe("10.0.0");
    expect(parseVirshVersion("garbage")).toBeUndefined();
  });
});

describe("virtio_fs_domain with xml_path", () => {
  test("adds the device in the template's shape and shared memfd memory; the rest is untouched; idempotent", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const { result } = w.run("virtio_fs_domain", { xml_path: p, mounts: [ds] });
    expect(result.failed).toBeUndefined();
    expect(result).toMatchObject({
      changed: true,
      added: ["datasets"],
      updated: [],
      removed: [],
      restart_required: false,
      memory_backing_changed: true,
    });
    const after = fs.readFileSync(p, "utf8");
    expect(after).toBe(
      PLAIN.replace(
        "  <vcpu",
        "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n  <vcpu",
      ).replace(
        "    </disk>\n",
        "    </disk>\n    <filesystem type='mount' accessmode='passthrough'>\n      <driver type='virtiofs' queue='1024'/>\n      <source dir='/data/ds'/>\n      <target dir='datasets'/>\n    </filesystem>\n",
      ),
    );
    const mtime = fs.statSync(p).mtimeMs;
    const again = w.run("virtio_fs_domain", { xml_path: p, mounts: [ds] }).result;
    expect(again).toMatchObject({ changed: false, added: [], updated: [], removed: [], restart_required: false });
    expect(fs.readFileSync(p, "utf8")).toBe(after);
    expect(fs.statSync(p).mtimeMs).toBe(mtime);
  });

  test("binary, cache, thread pool, xattr and queue are emitted as libvirt expects", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [
        {
          ...ds,
          queue_size: 256,
          binary_path: "/usr/libexec/virtiofsd",
          xattr: true,
          cache: "never",
          thread_pool_size: 16,
        },
        { tag: "auto", host_path: "/data/auto", mount_point: "/mnt/a", cache: "auto" },
        { tag: "always", host_path: "/data/always", mount_point: "/mnt/b", cache: "always" },
      ],
    });
    const after = fs.readFileSync(p, "utf8");
    expect(after).toContain(`    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='256'/>
      <binary path='/usr/libexec/virtiofsd' xattr='on'>
        <cache mode='none'/>
        <thread_pool size='16'/>
      </binary>
      <source dir='/data/ds'/>
      <target dir='datasets'/>
    </filesystem>
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <source dir='/data/auto'/>
      <target dir='auto'/>
    </filesystem>
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <binary>
        <cache mode='always'/>
      </binary>
      <source dir='/data/always'/>
      <target dir='always'/>
    </filesystem>
`);
  });

  test("<readonly/> only from libvirt 11.0", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    w.run("virtio_fs_domain", { xml_path: p, mounts: [{ ...ds, readonly: true }], readonly_mechanism: "guest" });
    expect(fs.readFileSync(p, "utf8")).not.toContain("<readonly/>");
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [{ ...ds, readonly: true }],
      libvirt_version: "11.0",
    }).result;
    expect(r.updated).toEqual(["datasets"]);
    expect(fs.readFileSync(p, "utf8")).toContain(
      "      <target dir='datasets'/>\n      <readonly/>\n    </filesystem>",
    );
    const back = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [{ ...ds, readonly: false }],
      libvirt_version: "11.0",
      readonly_mechanism: "guest",
    }).result;
    expect(back.updated).toEqual(["datasets"]);
    expect(fs.readFileSync(p, "utf8")).not.toContain("<readonly/>");
  });

  test("readonly mechanism: auto switches between wrapper and <readonly/>; guest and a replaced binary_path warn", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const ro = { ...ds, readonly: true };
    const WRAPPED = "<binary path='/usr/local/libexec/virtio-fs/virtiofsd-readonly'/>";
    expect(w.run("virtio_fs_domain", { xml_path: p, mounts: [ro] }).result.warnings).toBeUndefined();
    expect(fs.readFileSync(p, "utf8")).toContain(`${WRAPPED}\n      <source dir='/data/ds'/>`);
    // libvirt 11: the wrapper gives way to <readonly/>, and back
    w.run("virtio_fs_domain", { xml_path: p, mounts: [ro], libvirt_version: "11.3.0" });
    expect(fs.readFileSync(p, "utf8")).not.toContain("<binary");
    expect(fs.readFileSync(p, "utf8")).toContain("<readonly/>");
    const own = { ...ro, binary_path: "/opt/virtiofsd" };
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [own],
      libvirt_version: "11.3.0",
      readonly_mechanism: "wrapper",
      readonly_wrapper_path: "/opt/w'&\"",
    }).result;
    expect(r.updated).toEqual(["datasets"]);
    expect(fs.readFileSync(p, "utf8")).toContain("<binary path='/opt/w&apos;&amp;&quot;'/>");
    expect(fs.readFileSync(p, "utf8")).not.toContain("<readonly/>");
    expect(r.warnings).toEqual([
      "share datasets: binary_path /opt/virtiofsd is not used; the read-only wrapper runs the host's virtiofsd",
    ]);
    const g = w.run("virtio_fs_domain", { xml_path: p, mounts: [ro], readonly_mechanism: "guest" }).result;
    expect(fs.readFileSync(p, "utf8")).not.toMatch(/<readonly\/>|<binary/);
    expect(g.warnings).toEqual([
      "readonly mechanism guest: shares datasets are read-only in the guest only; guest root can remount them rw and write to the host directory",
    ]);
    const bad = w.run("virtio_fs_domain", { xml_path: p, mounts: [ro], readonly_mechanism: "host" }).result;
    expect(bad.failed).toBe(true);
    const unwritable = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [ro],
      readonly_mechanism: "wrapper",
      readonly_wrapper_path: "/opt/w\uffff",
    }).result;
    expect(unwritable.failed).toBe(true);
    expect(unwritable.msg).toContain("/readonly_wrapper_path: ");
    expect(unwritable.msg).toContain("(it is written into the domain XML)");
  });

  test("updates in place (alias, address, lock kept), removes unlisted virtiofs devices, leaves 9p alone, fixes memoryBacking", () => {
    w = makeWorld();
    const p = writeXml(w, SHARED);
    const { result } = w.run("virtio_fs_domain", { xml_path: p, mounts: [{ ...ds, host_path: "/data/ds2" }] });
    expect(result).toMatchObject({
      changed: true,
      added: [],
      updated: ["datasets"],
      removed: ["old"],
      memory_backing_changed: true,
    });
    const after = fs.readFileSync(p, "utf8");
    expect(after).toContain(NINEP);
    expect(after).not.toContain("<target dir='old'/>");
    expect(after).toContain(`    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <binary>
        <lock posix='off' flock='off'/>
      </binary>
      <source dir='/data/ds2'/>
      <target dir='datasets'/>
      <alias name='fs2'/>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
    </filesystem>
`);
    // the file-backed hugepages stay: only the shared access virtio-fs needs is added
    expect(after).toContain(
      "  <memoryBacking>\n    <hugepages/>\n    <source type='file'/>\n    <access mode='shared'/>\n  </memoryBacking>\n",
    );
    expect(after.startsWith(HEAD)).toBe(true);
    expect(after.endsWith(TAIL_DEVICES)).toBe(true);
  });

  test("a share with state absent is removed from the domain", () => {
    w = makeWorld();
    const p = writeXml(w, SHARED);
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [
        { ...ds, state: "absent", host_path: undefined },
        { tag: "old", host_path: "/data/old", mount_point: "/o" },
      ],
    }).result;
    expect(r.removed).toEqual(["datasets"]);
    expect(fs.readFileSync(p, "utf8")).not.toContain("<target dir='datasets'/>");
  });

  test("check mode writes nothing and predicts the change; diff has before/after XML", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [ds],
      _ansible_check_mode: true,
      _ansible_diff: true,
    }).result;
    expect(r).toMatchObject({ changed: true, added: ["datasets"] });
    expect(fs.readFileSync(p, "utf8")).toBe(PLAIN);
    expect(r.diff.before).toBe(PLAIN);
    expect(r.diff.after).toContain("<target dir='datasets'/>");
    expect(r.diff.before_header).toContain(p);
  });

  test("argument problems name their pointers", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [
        { tag: "a", mount_point: "/a" },
        { tag: "b", host_path: "/b", mount_point: "/b" },
        { tag: "b", host_path: "/c", mount_point: "/c" },
      ],
    }).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("/mounts/0/host_path: host_path is required here");
    expect(r.msg).toContain('/mounts/2/tag: duplicate tag "b": already used by /mounts/1');
    const long = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [{ tag: "x".repeat(37), host_path: "/b", mount_point: "/b" }],
    }).result;
    expect(long.msg).toContain("/mounts/0/tag: expected at most 36 characters");
    const both = w.run("virtio_fs_domain", { xml_path: p, name: "ctl", mounts: [] }).result;
    expect(both.failed).toBe(true);
    expect(both.msg).toContain("exactly one");
    const unknown = w.run("virtio_fs_domain", { xml_path: p, mounts: [], restart: true }).result;
    expect(unknown.msg).toContain('unknown property "restart"');
    expect(fs.readFileSync(p, "utf8")).toBe(PLAIN);
  });

  test("a 9p filesystem already using the tag is a clear failure", () => {
    w = makeWorld();
    const p = writeXml(w, SHARED);
    const r = w.run("virtio_fs_domain", {
      xml_path: p,
      mounts: [ds, { tag: "ninep", host_path: "/x", mount_point: "/x" }],
    }).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('/mounts/1/tag: tag "ninep" is already used by a <filesystem>');
    expect(fs.readFileSync(p, "utf8")).toBe(SHARED);
  });

  test("a file that is not a domain is refused", () => {
    w = makeWorld();
    const p = writeXml(w, "<network><name>x</name></network>\n");
    const r = w.run("virtio_fs_domain", { xml_path: p, mounts: [ds] }).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("not a libvirt <domain>");
  });
});

describe("virtio_fs_domain with name (virsh)", () => {
  function define(world: World, xml: string) {
    fs.writeFileSync(path.join(world.bin, "domains", "ctl.xml"), xml);
  }
  const stored = (world: World) => fs.readFileSync(path.join(world.bin, "domains", "ctl.xml"), "utf8");

  // the running domain keeps its live definition (virtio_fs_domain-live.test.ts covers hot-plug)
  const running = (world: World) => fs.writeFileSync(path.join(world.bin, "domains", "ctl.live.xml"), PLAIN);

  test("reads with dumpxml --inactive, writes with define; without live update a running domain needs a restart", () => {
    w = makeWorld();
    define(w, PLAIN);
    running(w);
    w.setFake({ domstate: "running", libvirtVersion: "9.0.0" });
    const r = w.run("virtio_fs_domain", {
      name: "ctl",
      uri: "qemu:///system",
      mounts: [ds],
      live_update: false,
    }).result;
    expect(r).toMatchObject({
      changed: true,
      added: ["datasets"],
      restart_required: true,
      domain_state: "running",
      libvirt_version: "9.0.0",
    });
    const calls = callsOf(w, "virsh");
    expect(calls[0]).toEqual(["--connect=qemu:///system", "dumpxml", "--inactive", "--domain=ctl"]);
    expect(calls.some((c) => c[1] === "version" && c[2] === "--daemon")).toBe(true);
    const def = calls.find((c) => c[1] === "define")!;
    expect(def).toHaveLength(3);
    expect(fs.existsSync(def[2].replace(/^--file=/, ""))).toBe(false);
    expect(stored(w)).toContain("<target dir='datasets'/>");
    w.clearCalls();
    const again = w.run("virtio_fs_domain", { name: "ctl", mounts: [ds], live_update: false }).result;
    // the definition is as configured; the running domain still lacks the device
    expect(again).toMatchObject({ changed: false, restart_required: true });
    expect(callsOf(w, "virsh").some((c) => c[1] === "define")).toBe(false);
  });

  test("a shut off domain needs no restart", () => {
    w = makeWorld();
    define(w, PLAIN);
    w.setFake({ domstate: "shut off", libvirtVersion: "9.0.0" });
    const r = w.run("virtio_fs_domain", { name: "ctl", mounts: [ds] }).result;
    expect(r).toMatchObject({ changed: true, restart_required: false });
  });

  test("libvirt version from the daemon decides <readonly/>; unknown version warns and assumes 9.0.0", () => {
    w = makeWorld();
    define(w, PLAIN);
    w.setFake({ libvirtVersion: "11.0.0" });
    w.run("virtio_fs_domain", { name: "ctl", mounts: [{ ...ds, readonly: true }] });
    expect(stored(w)).toContain("<readonly/>");
    define(w, PLAIN);
    w.setFake({});
    const r = w.run("virtio_fs_domain", { name: "ctl", mounts: [{ ...ds, readonly: true }] }).result;
    expect(r.libvirt_version).toBe("9.0.0");
    expect(r.warnings.join(" ")).toContain("assuming 9.0.0");
    expect(stored(w)).not.toContain("<readonly/>");
  });

  test("check mode does not define", () => {
    w = makeWorld();
    define(w, PLAIN);
    running(w);
    w.setFake({ domstate: "running", libvirtVersion: "9.0.0" });
    const r = w.run("virtio_fs_domain", {
      name: "ctl",
      mounts: [ds],
      live_update: false,
      _ansible_check_mode: true,
    }).result;
    expect(r).toMatchObject({ changed: true, restart_required: true });
    expect(callsOf(w, "virsh").some((c) => c[1] === "define")).toBe(false);
    expect(stored(w)).toBe(PLAIN);
  });

  test("an unknown domain and a refused definition are explained", () => {
    w = makeWorld();
    const missing = w.run("virtio_fs_domain", { name: "nope", mounts: [ds], libvirt_version: "9.0.0" }).result;
    expect(missing.failed).toBe(true);
    expect(missing.msg).toContain("cannot read the definition of domain nope");
    expect(missing.msg).toContain("list --all");
    define(w, PLAIN);
    w.setFake({ defineFail: "error: unsupported configuration: 'virtiofs' requires shared memory" });
    const refused = w.run("virtio_fs_domain", { name: "ctl", mounts: [ds], libvirt_version: "9.0.0" }).result;
    expect(refused.failed).toBe(true);
    expect(refused.msg).toContain("libvirt refused the new definition of ctl");
    expect(refused.msg).toContain("requires shared memory");
  });
});

describe("editDomainXml", () => {
  test("duplicate virtiofs devices of one tag are collapsed", () => {
    const dup = SHARED.replace(OLD_VIRTIOFS, DS_VIRTIOFS);
    // called past the module's validator, so the share carries the defaults that validator would fill in
    const e = editDomainXml(
      dup,
      {
        mounts: [{ ...ds, state: "mounted", readonly: false, queue_size: 1024 }],
        readonly_mechanism: "auto",
        readonly_wrapper_path: "/w",
      } as never,
      "9.0.0",
    );
    expect(e.updated).toEqual(["datasets"]);
    expect(e.xml.split("<target dir='datasets'/>")).toHaveLength(2);
  });
});

// The host role checks or creates the host directories through the module (one module execution per
// domain, bench/host) instead of a stat task per share.
describe("virtio_fs_domain host_dirs", () => {
  test("ignore (the default) never looks at host_path", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const r = w.run("virtio_fs_domain", { xml_path: p, mounts: [{ ...ds, host_path: path.join(w.dir, "nope") }] });
    expect(r.result).toMatchObject({ changed: true, created_dirs: [] });
    expect(fs.existsSync(path.join(w.dir, "nope"))).toBe(false);
  });

  test("require refuses a missing or non-directory host_path before the domain is edited", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const missing = path.join(w.dir, "missing");
    const r = w.run("virtio_fs_domain", { xml_path: p, host_dirs: "require", mounts: [{ ...ds, host_path: missing }] });
    expect(r.result.failed).toBe(true);
    expect(r.result.msg).toContain(`host directory ${missing} of share datasets does not exist or is not a directory`);
    expect(fs.readFileSync(p, "utf8")).toBe(PLAIN);
    const file = path.join(w.dir, "a-file");
    fs.writeFileSync(file, "x");
    const f = w.run("virtio_fs_domain", { xml_path: p, host_dirs: "create", mounts: [{ ...ds, host_path: file }] });
    expect(f.result.failed).toBe(true);
    expect(f.result.msg).toContain("is not a directory");
  });

  test("create makes missing directories and parents with dir_mode, not in check mode, and only once", () => {
    w = makeWorld();
    const p = writeXml(w, PLAIN);
    const top = path.join(w.dir, "shares");
    const deep = path.join(top, "deep");
    const mounts = [
      { ...ds, host_path: deep },
      { tag: "gone", host_path: path.join(w.dir, "absent-share"), mount_point: "/mnt/g", state: "absent" },
    ];
    const dry = w.run("virtio_fs_domain", {
      xml_path: p,
      host_dirs: "create",
      dir_mode: "0750",
      mounts,
      _ansible_check_mode: true,
    }).result;
    expect(dry).toMatchObject({ changed: true, created_dirs: [top, deep] });
    expect(fs.existsSync(top)).toBe(false);
    const r = w.run("virtio_fs_domain", { xml_path: p, host_dirs: "create", dir_mode: "0750", mounts }).result;
    expect(r).toMatchObject({ changed: true, created_dirs: [top, deep], added: ["datasets"] });
    expect(r.msg).toContain(`created host directories ${top}, ${deep}`);
    for (const d of [top, deep]) expect(fs.statSync(d).mode & 0o7777).toBe(0o750);
    expect(fs.existsSync(path.join(w.dir, "absent-share"))).toBe(false);
    const again = w.run("virtio_fs_domain", { xml_path: p, host_dirs: "create", mounts }).result;
    expect(again).toMatchObject({ changed: false, created_dirs: [] });
  });
});
