// Random share lists through the shipped modules on a fake guest (issue 9): whatever the list, a run
// ends in one JSON result (never an unexpected error), a domain the module writes is well-formed XML,
// and a second run with the same arguments changes nothing. The schema refuses much of what is
// generated; refusals must be clean "invalid arguments" failures that touch nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { callsOf, makeWorld, type World } from "./harness";

const DOMAIN = `<domain type='kvm'>
  <name>vm</name>
  <uuid>0b6f3e3c-0000-4000-8000-000000000001</uuid>
  <memory unit='KiB'>2097152</memory>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
`;

// Strings from the classes the adversarial review uses: option-like, markup, templating, odd bytes.
const hostile = fc.constantFrom(
  "--bind",
  "-a",
  "a b",
  "x --><!DOCTYPE y>",
  "<&'\">",
  "{{ 7 * 7 }}",
  "\u0001",
  "\uFFFE",
  "..",
  "a/../b",
  "é",
  "__proto__",
  "",
);
const tag = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), hostile);
const component = fc.oneof(fc.stringMatching(/^[a-z0-9 ._-]{1,8}$/), hostile);
const options = fc.option(
  fc
    .array(
      fc.constantFrom(
        "rw",
        "ro",
        "nofail",
        "defaults",
        "noatime",
        "relatime",
        "nosuid",
        "noexec",
        "exec",
        "user",
        "bind",
        "x-systemd.automount",
        "dax",
        "nodev",
        "comment=x",
      ),
      { maxLength: 5 },
    )
    .map((o) => o.join(",")),
  { nil: undefined },
);
const share = fc.record(
  {
    tag,
    sub: fc.array(component, { minLength: 1, maxLength: 3 }),
    readonly: fc.option(fc.boolean(), { nil: undefined }),
    state: fc.option(fc.constantFrom("mounted", "present", "unmounted", "absent"), { nil: undefined }),
    options,
  },
  { requiredKeys: ["tag", "sub"] },
);

const xmlProblems = (xml: string) =>
  spawnSync("xmllint", ["--noout", "--nonet", "-"], { input: xml, encoding: "utf8" }).stderr;

function sharesIn(
  w: World,
  list: fc.RecordValue<{ tag: string; sub: string[]; readonly?: boolean; state?: string; options?: string }>[],
) {
  return list.map((s) => {
    const out: Record<string, unknown> = {
      tag: s.tag,
      mount_point: path.join(w.mnt, ...s.sub),
      host_path: path.join("/srv", ...s.sub),
    };
    if (s.readonly !== undefined) out.readonly = s.readonly;
    if (s.state !== undefined) out.state = s.state;
    if (s.options !== undefined) out.options = s.options;
    return out;
  });
}

function expectCleanResult(r: Record<string, unknown>) {
  expect(typeof r.changed).toBe("boolean");
  expect(String(r.msg ?? "")).not.toMatch(/unexpected error|\n\s+at /);
}

describe("random share lists through the shipped modules", () => {
  test("virtio_fs_mount: one clean result per run; a run that succeeded is followed by one that changes nothing", () => {
    fc.assert(
      fc.property(fc.array(share, { maxLength: 4 }), (list) => {
        const w = makeWorld();
        try {
          w.writeFstab("# static\n/dev/vda1 / ext4 defaults 0 1\n");
          const args = { mounts: sharesIn(w, list), fstab: w.fstab };
          const first = w.run("virtio_fs_mount", args).result;
          expectCleanResult(first);
          if (String(first.msg ?? "").startsWith("invalid arguments")) {
            expect(first.changed).toBe(false);
            expect(callsOf(w, "mount")).toEqual([]);
            return;
          }
          if (first.failed) return;
          const second = w.run("virtio_fs_mount", args).result;
          expectCleanResult(second);
          expect(second.failed).toBeUndefined();
          expect(second.changed).toBe(false);
        } finally {
          w.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  test("virtio_fs_domain: the XML it writes is well-formed, and a second run changes nothing", () => {
    fc.assert(
      fc.property(fc.array(share, { maxLength: 4 }), (list) => {
        const w = makeWorld();
        try {
          const file = path.join(w.dir, "vm.xml");
          fs.writeFileSync(file, DOMAIN);
          const args = { xml_path: file, mounts: sharesIn(w, list) };
          const first = w.run("virtio_fs_domain", args).result;
          expectCleanResult(first);
          const written = fs.readFileSync(file, "utf8");
          expect(xmlProblems(written)).toBe("");
          if (first.failed) {
            expect(written).toBe(DOMAIN);
            return;
          }
          const second = w.run("virtio_fs_domain", args).result;
          expectCleanResult(second);
          expect(second.changed).toBe(false);
          expect(fs.readFileSync(file, "utf8")).toBe(written);
        } finally {
          w.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });
});
