import { parseFstab } from "../../src/runtime/fstab";
import { planShare, type Desired, type Observed } from "../../src/runtime/mount-plan";
import { parseMountInfo } from "../../src/runtime/mountinfo";

// The plan needs no file system: every observation is passed in (paths here do not exist).
const desired: Desired = {
  tag: "data",
  mountPoint: "/nowhere/data",
  state: "mounted",
  options: ["rw", "relatime", "nofail"],
  readonly: false,
  owner: "root",
  group: "root",
  uid: 0,
  gid: 0,
  mode: 0o755,
  absentWhy: "state is absent",
};
function observed(fstabText: string, mountinfo: string, point: Partial<Observed["point"]> = {}): Observed {
  const fstab = parseFstab(fstabText);
  return {
    mountinfo: parseMountInfo(mountinfo),
    fstab,
    tags: null,
    fstabKey: (l) => l.entry?.file.replace(/\/+$/, ""),
    lineNumber: (l) => fstab.lines.indexOf(l) + 1,
    point: { path: "/nowhere/data", kernelPath: "/real/data", kind: "missing", missingParents: ["/nowhere"], ...point },
    ownerLabel: (u, g) => `${u}:${g}`,
  };
}
const settings = { create_mount_dirs: true, persist: true, perform_mounts: true };

describe("planShare (pure)", () => {
  test("a missing share: parents, directory, mount, fstab line", () => {
    const plan = planShare(desired, observed("", ""), settings);
    expect(plan.steps.map((s) => s.action)).toEqual(["create_parent_dir", "create_dir", "mount", "fstab_add"]);
  });

  test("mounts are found by the kernel path, fstab lines by their key", () => {
    const mi = "300 22 0:300 / /real/data rw,relatime shared:300 - virtiofs data rw\n";
    const plan = planShare(
      desired,
      observed("data /real/data/ virtiofs rw,relatime,nofail 0 0\n", mi, {
        kind: "directory",
        uid: 0,
        gid: 0,
        mode: 0o755,
      }),
      settings,
    );
    expect(plan.steps.map((s) => s.action)).toEqual(["fstab_update"]);
  });

  test("a symlink mount point and a blocked path are refused before any step", () => {
    expect(planShare(desired, observed("", "", { kind: "symlink", linkTarget: "/t" }), settings)).toMatchObject({
      steps: [],
      failure: { kind: "message" },
    });
    expect(
      planShare(desired, observed("", "", { blocked: "/nowhere is a file, not a directory" }), settings).failure,
    ).toEqual({
      kind: "message",
      msg: "mount point /nowhere/data cannot be created: /nowhere is a file, not a directory",
    });
  });
});
