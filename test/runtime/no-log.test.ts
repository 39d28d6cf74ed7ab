import * as fs from "fs";
import * as path from "path";
import { makeWorld, type ModuleName, type World } from "./harness";

/** Every string of 3 characters or more in the arguments (what no_log must keep out of stdout). */
function argumentStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string" && v.length >= 3) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => argumentStrings(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => argumentStrings(x, out));
  return out;
}

let w: World;
afterEach(() => w?.cleanup());

function expectMasked(name: ModuleName, args: Record<string, unknown>, env: Record<string, string> = {}) {
  const out = w.run(name, { ...args, _ansible_no_log: true, _ansible_diff: true, _ansible_verbosity: 4 }, env);
  const leaked = argumentStrings(args).filter((s) => out.stdout.includes(s));
  expect({ leaked, stdout: out.stdout }).toMatchObject({ leaked: [] });
  return out.result;
}

describe("no_log masks every value derived from the arguments, anywhere in the result", () => {
  test("virtio_fs_mount: per-share tag, mount_point, msg, actions' why, diff, warnings", () => {
    w = makeWorld({ tagsDir: ["s3cret-tag"] });
    const ok = expectMasked("virtio_fs_mount", {
      mounts: [
        {
          tag: "s3cret-tag",
          mount_point: path.join(w.mnt, "hidden-place"),
          options: "noatime,x-secret-opt",
          owner: "nobody_known",
          readonly: true,
        },
        { tag: "other-tag", mount_point: path.join(w.mnt, "second-place") },
        { tag: "gone-tag", mount_point: path.join(w.mnt, "third-place"), state: "absent" },
      ],
      fstab: w.fstab,
      default_mode: "0750",
      load_module: false,
    });
    expect(ok.failed).toBe(true); // other-tag is not offered: a per-share failure with its own msg
    expect(ok.mounts.length).toBe(3);
    expect(JSON.stringify(ok)).toContain("********");
  });

  test("virtio_fs_info", () => {
    w = makeWorld();
    w.writeFstab("s3cret /mnt/x virtiofs rw 0 0\n");
    expectMasked("virtio_fs_info", { fstab: w.fstab });
  });

  test("virtio_fs_domain: added tags, diff of the XML, failures", () => {
    w = makeWorld();
    const xml = path.join(w.dir, "dom.xml");
    fs.writeFileSync(
      xml,
      "<domain type='kvm'>\n  <name>vm</name>\n  <memory unit='MiB'>1024</memory>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n  </devices>\n</domain>\n",
    );
    const ok = expectMasked("virtio_fs_domain", {
      xml_path: xml,
      mounts: [{ tag: "s3cret-tag", host_path: "/srv/hidden-dir", mount_point: "/mnt/hidden" }],
    });
    expect(ok.failed).toBeFalsy();
    expectMasked("virtio_fs_domain", {
      xml_path: path.join(w.dir, "missing-secret.xml"),
      mounts: [{ tag: "s3cret-tag", host_path: "/srv/hidden-dir", mount_point: "/mnt/hidden" }],
    });
  });

  test("argument conversion failures do not repeat the value either", () => {
    w = makeWorld();
    expectMasked("virtio_fs_mount", {
      mounts: [{ tag: "abc", mount_point: "/mnt/abc", readonly: "s3cret-bool" }],
      fstab: w.fstab,
    });
  });
});
