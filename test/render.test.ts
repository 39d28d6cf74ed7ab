import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderTemplate } from "../src/render/domain";
import { ROOT, tmpDir, tool } from "./helpers/tools";

const TEMPLATE = path.join(ROOT, "generated/templates/controller.xml.j2");
const dir = path.join(ROOT, "test/render-configs");
const configs = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".yml"))
  .sort();

/** Renders every config with Ansible's own template module (Jinja2), one playbook run each. */
async function renderWithAnsible(out: string): Promise<void> {
  const play = path.join(out, "render.yml");
  fs.writeFileSync(
    play,
    `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - ansible.builtin.template:\n        src: ${TEMPLATE}\n        dest: "{{ out }}"\n        mode: "0644"\n`,
  );
  await Promise.all(
    configs.map(async (c) => {
      const r = await tool("ansible-playbook", [
        "-i",
        "localhost,",
        play,
        "-e",
        `@${path.join(dir, c)}`,
        "-e",
        `out=${path.join(out, c.replace(/\.yml$/, ".jinja2.xml"))}`,
      ]);
      if (r.exitCode !== 0) throw new Error(r.all);
    }),
  );
}

describe("libvirt domain template", () => {
  const out = tmpDir("render");
  beforeAll(async () => {
    for (const c of configs) {
      const vars = yaml.load(fs.readFileSync(path.join(dir, c), "utf8")) as Record<string, unknown>;
      fs.writeFileSync(
        path.join(out, c.replace(/\.yml$/, ".nunjucks.xml")),
        renderTemplate(fs.readFileSync(TEMPLATE, "utf8"), vars),
      );
    }
    await renderWithAnsible(out);
  });

  it.each(configs)("%s renders byte-identically with nunjucks and with Ansible's Jinja2", (c) => {
    const n = fs.readFileSync(path.join(out, c.replace(/\.yml$/, ".nunjucks.xml")), "utf8");
    const j = fs.readFileSync(path.join(out, c.replace(/\.yml$/, ".jinja2.xml")), "utf8");
    expect(n).toBe(j);
  });

  it.each(configs)("%s passes virt-xml-validate", async (c) => {
    const r = await tool("virt-xml-validate", [path.join(out, c.replace(/\.yml$/, ".nunjucks.xml")), "domain"]);
    expect(r.all).toContain("validates");
    expect(r.exitCode).toBe(0);
  });

  const read = (c: string) => fs.readFileSync(path.join(out, c.replace(/\.yml$/, ".nunjucks.xml")), "utf8");

  it("adds shared memfd memory exactly when a share is not absent", () => {
    expect(read("01-no-shares.yml")).not.toContain("memoryBacking");
    expect(read("07-all-shares-absent.yml")).not.toContain("memoryBacking");
    expect(read("07-all-shares-absent.yml")).not.toContain("<filesystem");
    expect(read("08-mixed-states.yml")).toContain(
      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    );
    expect(read("08-mixed-states.yml").match(/<filesystem /g)).toHaveLength(2);
    expect(read("02-seed-controller.yml")).toContain(
      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
    );
  });

  it("enforces read-only shares by mechanism: auto is <readonly/> from libvirt 11, else the wrapper", () => {
    const WRAPPER = "<binary path='/usr/local/libexec/virtio-fs/virtiofsd-readonly'/>";
    // auto below 11: the read-only share (only it) runs the wrapper
    expect(read("02-seed-controller.yml").match(/<binary path=[^>]*>/g)).toEqual([WRAPPER]);
    expect(read("06-libvirt-10-readonly-not-emitted.yml")).toContain(WRAPPER);
    expect(read("03-every-option-libvirt-11.yml")).not.toContain("virtiofsd-readonly");
    // wrapper chosen: its (escaped) path replaces a read-only share's binary_path; the rw share keeps its own
    const w = read("10-readonly-wrapper.yml");
    const ESCAPED = "/opt/it&apos;s &lt;virtio&gt; &amp; &quot;fs&quot;/virtiofsd-ro";
    expect(w).toContain(`<binary path='${ESCAPED}'/>\n      <source dir='/srv/ro plain'/>`);
    expect(w).toContain(
      `<binary path='${ESCAPED}' xattr='on'>\n        <cache mode='none'/>\n        <thread_pool size='4'/>`,
    );
    expect(w).toContain("<binary path='/usr/libexec/virtiofsd'/>\n      <source dir='/srv/rw'/>");
    expect(w).not.toContain("<readonly/>");
    // guest: nothing host-side, even on libvirt 11
    expect(read("11-readonly-guest-only.yml")).not.toMatch(/<readonly\/>|<binary/);
    // readonly chosen: <readonly/> for the read-only share only, whatever the version
    expect(read("12-readonly-element-chosen.yml").match(/<readonly\/>/g)).toHaveLength(1);
    expect(read("12-readonly-element-chosen.yml")).not.toContain("virtiofsd-readonly");
  });

  it("emits one filesystem per share and <readonly/> only from libvirt 11", () => {
    expect(read("02-seed-controller.yml").match(/<filesystem type='mount' accessmode='passthrough'>/g)).toHaveLength(2);
    expect(read("02-seed-controller.yml")).not.toContain("<readonly/>");
    expect(read("06-libvirt-10-readonly-not-emitted.yml")).not.toContain("<readonly/>");
    expect(read("03-every-option-libvirt-11.yml").match(/<readonly\/>/g)).toHaveLength(1);
  });

  it("emits <binary> options only when set, mapping cache never to none and auto to nothing", () => {
    const x = read("03-every-option-libvirt-11.yml");
    expect(x).toContain(
      "<driver type='virtiofs' queue='512'/>\n      <binary path='/usr/libexec/virtiofsd' xattr='on'>\n        <cache mode='always'/>\n        <thread_pool size='16'/>\n      </binary>",
    );
    // xattr false is virtiofsd's default: nothing is written, as the virtio_fs_domain module does.
    expect(x).toContain("<binary>\n        <cache mode='none'/>\n      </binary>");
    expect(x).not.toContain("xattr='off'");
    expect(x).toContain("<binary>\n        <thread_pool size='0'/>\n      </binary>");
    expect(x).toMatch(/<driver type='virtiofs' queue='1024'\/>\n {6}<source dir='\/srv\/auto'\/>/);
    expect(read("01-no-shares.yml")).not.toContain("<binary");
    expect(x).not.toContain("gone");
  });

  it("escapes every interpolated value", () => {
    const x = read("04-escaping.yml");
    expect(x).toContain("<name>odd &amp; &lt;name&gt;</name>");
    expect(x).toContain("<source dir='/srv/data &lt;raw&gt; &amp; &apos;quoted&apos; &quot;double&quot;'/>");
    expect(x).toContain("<source file='/srv/it&apos;s &quot;quoted&quot;/disk &amp; more.qcow2'/>");
    // markup meant to close a comment or declare entities arrives as text, in Jinja2 as in nunjucks
    const h = read("09-hostile-values.yml");
    expect(h).toContain(
      "<name>x --&gt;&lt;!DOCTYPE y [&lt;!ENTITY z &apos;a&apos;&gt;]&gt;&lt;!-- &amp;amp; ]]&gt;</name>",
    );
    expect(h).toContain(
      "<source dir='/srv/a ]]&gt; b &apos;c&apos; &quot;d&quot; &lt;e&gt; &amp; f &amp;amp; --&gt; &lt;!-- x'/>",
    );
    expect(h).not.toMatch(/<!DOCTYPE|<!ENTITY|<!--/);
  });

  it("sizes the TCG translation cache only for emulated domains", () => {
    expect(read("05-lab-tcg-direct-boot.yml")).toContain(
      "<tcg>\n      <tb-cache unit='MiB'>128</tb-cache>\n    </tcg>",
    );
    expect(read("02-seed-controller.yml")).not.toContain("<tcg>");
  });

  it("takes CPU features away only from emulated guests: erms by default (schema), none for an empty list", () => {
    expect(read("05-lab-tcg-direct-boot.yml")).toContain(
      "<cpu mode='maximum'>\n    <feature policy='disable' name='erms'/>\n  </cpu>",
    );
    expect(read("15-tcg-cpu-features-disabled.yml")).toContain(
      "<cpu mode='maximum'>\n    <feature policy='disable' name='erms'/>\n    <feature policy='disable' name='avx512f'/>\n" +
        "    <feature policy='disable' name='sse4.2'/>\n  </cpu>",
    );
    expect(read("14-tcg-cpu-features-kept.yml")).toContain("<cpu mode='maximum'/>");
    expect(read("02-seed-controller.yml")).toContain("<cpu mode='host-passthrough'/>");
    expect(read("02-seed-controller.yml")).not.toContain("<feature policy");
  });

  it("declares a PCIe root port per device it defines plus vm_pcie_hotplug_ports spare ones for hot-plug", () => {
    const ports = (c: string) => read(c).split("model='pcie-root-port'").length - 1;
    // libvirt puts the disk, its USB controller, the NIC and each share on free root ports first
    expect(ports("01-no-shares.yml")).toBe(4 + 2);
    expect(ports("05-lab-tcg-direct-boot.yml")).toBe(4 + 2 + 2);
    expect(ports("02-seed-controller.yml")).toBe(4 + 2 + 1 + 2);
    expect(ports("13-no-spare-root-ports.yml")).toBe(2 + 1);
    expect(read("01-no-shares.yml")).toContain("<controller type='pci' index='0' model='pcie-root'/>");
  });

  it("forwards SSH on loopback only, with user-mode networking restricted", () => {
    const x = read("05-lab-tcg-direct-boot.yml");
    expect(x).toContain("<domain type='qemu'");
    expect(x).toContain("user,id=vfsnet0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22");
    expect(read("02-seed-controller.yml")).not.toContain("hostfwd");
  });
});
