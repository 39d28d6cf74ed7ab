// `vfsgen render` and the domain template given hostile text (issue 9): no configuration value reaches
// an XML comment, markup characters arrive escaped, and what XML 1.0 cannot carry is refused.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { compile } from "../src/compile";
import { renderDomain, renderHeaderComment, renderTemplate } from "../src/render/domain";
import { VfsError } from "../src/errors/messages";
import { xmlCharProblem, xmlCommentText } from "../src/runtime/xml-chars";
import type { VmConfig } from "../src/input/validate";
import { ROOT, tmpDir, vfsgen } from "./helpers/tools";

const TEMPLATE = fs.readFileSync(path.join(ROOT, "generated/templates/controller.xml.j2"), "utf8");

const wellFormed = (xml: string) => spawnSync("xmllint", ["--noout", "--nonet", "-"], { input: xml, encoding: "utf8" });

function vm(over: Partial<VmConfig> = {}, mounts: Record<string, unknown>[] = []): VmConfig {
  return { cluster: "c", name: "v", fullName: "c-v", pointer: "/clusters/c/v", data: {}, mounts, ...over } as VmConfig;
}

describe("XML comments", () => {
  test("xmlCommentText never lets text close a comment or leave a character XML cannot carry", () => {
    const dashHeavy = fc.string({ unit: fc.constantFrom("-", "-", "a", ">", "<", "!", "\u0000", "\uFFFE", "\uD800") });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), dashHeavy), (s) => {
        const t = xmlCommentText(s);
        expect(t).not.toContain("--");
        expect(t.endsWith("-")).toBe(false);
        expect(xmlCharProblem(t)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
    expect(xmlCommentText("x --><!DOCTYPE y>")).toBe("x - -><!DOCTYPE y>");
    expect(xmlCommentText("a---")).toBe("a- - - ");
  });

  test("the render header comment carries no VM, cluster or domain name", () => {
    const c = renderHeaderComment(compile(ROOT));
    expect(c).toMatch(/^<!-- rendered from controller\.xml\.j2, generated from .* -->\n$/);
    expect(c.slice(4, -4)).not.toContain("--");
  });

  test("vfsgen render of a VM whose name holds -- and markup writes well-formed comments", async () => {
    const dir = tmpDir("render-hostile");
    const file = path.join(dir, "c.yml");
    // "a--b" is a valid libvirt name; the old header comment "<!-- hpc-a--b: ..." was not well-formed
    fs.writeFileSync(
      file,
      'clusters:\n  hpc:\n    a--b:\n      virtio_fs_mounts:\n        - tag: t\n          host_path: "/srv/x --><!DOCTYPE y>"\n          mount_point: /mnt/t\n',
    );
    const r = await vfsgen(["render", file]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const comments = r.stdout.match(/<!--[\s\S]*?-->/g) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]).not.toContain("a--b");
    expect(wellFormed(r.stdout).stderr).toBe("");
    expect(r.stdout).toContain("<name>hpc-a--b</name>");
    expect(r.stdout).toContain("<source dir='/srv/x --&gt;&lt;!DOCTYPE y&gt;'/>");
    expect(r.stdout).not.toContain("<!DOCTYPE");
  });
});

describe("escaping in the template", () => {
  test("markup in every interpolated text arrives escaped (09-hostile-values) and the result is well-formed", () => {
    const x = renderTemplate(TEMPLATE, {
      vm_name: "x --><!DOCTYPE y [<!ENTITY z 'a'>]><!-- &amp; ]]>",
      vm_disk_path: '/srv/it\'s <"disk"> ]]>.qcow2',
      virtio_fs_mounts: [
        { tag: "t", host_path: "/srv/a ]]> b 'c' \"d\" <e> & f", mount_point: "/m", binary_path: "/o/'<w>\" & ]]>" },
      ],
    });
    expect(wellFormed(x).stderr).toBe("");
    expect(x).toContain(
      "<name>x --&gt;&lt;!DOCTYPE y [&lt;!ENTITY z &apos;a&apos;&gt;]&gt;&lt;!-- &amp;amp; ]]&gt;</name>",
    );
    expect(x).toContain("<source dir='/srv/a ]]&gt; b &apos;c&apos; &quot;d&quot; &lt;e&gt; &amp; f'/>");
    expect(x).toContain("<binary path='/o/&apos;&lt;w&gt;&quot; &amp; ]]&gt;'/>");
    expect(x).not.toMatch(/<!DOCTYPE|<!ENTITY|<!--/);
  });

  test("TAB, LF and CR travel as character references, so an attribute keeps them (as the module writes them)", () => {
    const x = renderTemplate(TEMPLATE, {
      vm_name: "v",
      vm_disk_path: "/d",
      virtio_fs_mounts: [{ tag: "t", host_path: "/a\tb\nc\rd", mount_point: "/m" }],
    });
    expect(x).toContain("<source dir='/a&#9;b&#10;c&#13;d'/>");
  });
});

describe("vfsgen render refuses what XML 1.0 cannot carry", () => {
  const ir = compile(ROOT);
  const cases: [string, VmConfig, string][] = [
    [
      "a C0 control in host_path",
      vm({}, [{ tag: "t", host_path: "/a\u0001b", mount_point: "/m" }]),
      "/clusters/c/v/virtio_fs_mounts/0/host_path",
    ],
    [
      "U+FFFE in binary_path",
      vm({}, [{ tag: "t", host_path: "/a", mount_point: "/m", binary_path: "/b\uFFFE" }]),
      "/clusters/c/v/virtio_fs_mounts/0/binary_path",
    ],
    [
      "U+FFFF in a tag",
      vm({}, [{ tag: "t\uFFFF", host_path: "/a", mount_point: "/m" }]),
      "/clusters/c/v/virtio_fs_mounts/0/tag",
    ],
    ["a lone surrogate in the VM name", vm({ name: "v\uD800", fullName: "c-v\uD800" }), "/clusters/c/v"],
    ["NUL in the cluster name", vm({ cluster: "c\u0000", fullName: "c\u0000-v" }), "/clusters/c"],
  ];
  test.each(cases)("%s", (_, config, pointer) => {
    let err: unknown;
    try {
      renderDomain(ir, config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfsError);
    const d = (err as VfsError).diagnostics[0];
    expect(d.code).toBe("VFS070");
    expect(d.pointer).toBe(pointer);
    expect(d.message).toMatch(
      /contains U\+[0-9A-F]{4} \(.*\) at character \d+, which XML 1\.0 cannot represent: the domain XML cannot carry it$/,
    );
  });

  test("--image-dir is checked too", () => {
    expect(() => renderDomain(ir, vm(), { imageDir: "/x\u0002" })).toThrow(/--image-dir contains U\+0002/);
  });
});
