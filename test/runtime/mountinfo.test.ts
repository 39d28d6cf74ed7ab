import {
  decodeMountInfoField,
  encodeMountInfoField,
  parseMountInfo,
  topMountAt,
  virtiofsMounts,
} from "../../src/runtime/mountinfo";
import {
  effectiveOptions,
  fsSpecificOptions,
  mountedVfsFlags,
  requestedVfsFlags,
  vfsFlagDifferences,
} from "../../src/runtime/mount-options";

const SAMPLE = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro",
  "36 22 0:40 / /mnt/host\\040datasets rw,nosuid,relatime shared:20 master:3 - virtiofs datasets rw",
  "37 22 0:41 / /mnt/ro ro,relatime - virtiofs containers ro",
  "38 22 0:42 / /mnt/tab\\011and\\134bs rw,noatime - virtiofs we\\040ird rw,dax=always",
  "39 37 0:43 / /mnt/ro rw,relatime - tmpfs tmpfs rw",
  "not a mountinfo line",
].join("\n");

describe("mountinfo", () => {
  test("decodes every octal escape", () => {
    expect(decodeMountInfoField("/a\\040b\\011c\\012d\\134e")).toBe("/a b\tc\nd\\e");
    expect(encodeMountInfoField("/a b\tc\nd\\e")).toBe("/a\\040b\\011c\\012d\\134e");
  });

  test("parses fields, optional fields, escaped paths and sources; skips junk", () => {
    const all = parseMountInfo(SAMPLE);
    expect(all).toHaveLength(5);
    const ds = all[1];
    expect(ds).toMatchObject({
      mountId: 36,
      parentId: 22,
      mountPoint: "/mnt/host datasets",
      fstype: "virtiofs",
      source: "datasets",
      readonly: false,
    });
    expect(ds.mountOptions).toEqual(["rw", "nosuid", "relatime"]);
    expect(all[2].readonly).toBe(true);
    expect(all[3]).toMatchObject({
      mountPoint: "/mnt/tab\tand\\bs",
      source: "we ird",
      superOptions: ["rw", "dax=always"],
    });
    expect(virtiofsMounts(all).map((m) => m.source)).toEqual(["datasets", "containers", "we ird"]);
  });

  test("topMountAt returns the last (topmost) mount of a mount point", () => {
    const all = parseMountInfo(SAMPLE);
    expect(topMountAt(all, "/mnt/ro")?.fstype).toBe("tmpfs");
    expect(topMountAt(all, "/nowhere")).toBeUndefined();
  });
});

describe("mount options", () => {
  test("effective options: share options or defaults, rw/ro removed, ro/rw first from readonly", () => {
    expect(effectiveOptions(undefined, "rw,relatime,nofail", true)).toEqual(["ro", "relatime", "nofail"]);
    expect(effectiveOptions(undefined, "relatime,rw,nofail", false)).toEqual(["rw", "relatime", "nofail"]);
    expect(effectiveOptions("noatime,nofail,noatime", "rw,relatime", false)).toEqual(["rw", "noatime", "nofail"]);
  });

  test("VFS flags requested vs mounted", () => {
    const want = requestedVfsFlags(["ro", "relatime", "nofail", "x-systemd.automount"]);
    expect(vfsFlagDifferences(want, mountedVfsFlags(["ro", "relatime"]))).toEqual([]);
    expect(vfsFlagDifferences(want, mountedVfsFlags(["rw", "relatime"]))).toEqual(["ro"]);
    expect(
      vfsFlagDifferences(requestedVfsFlags(["rw", "noexec", "noatime"]), mountedVfsFlags(["rw", "relatime"])),
    ).toEqual(["noexec", "atime"]);
    expect(requestedVfsFlags(["rw", "user"])).toMatchObject({ noexec: true, nosuid: true, nodev: true });
    expect(requestedVfsFlags(["rw", "user", "exec"]).noexec).toBe(false);
    expect(mountedVfsFlags(["rw"]).atime).toBe("strictatime");
  });

  test("file-system specific options exclude VFS flags and userspace-only options", () => {
    expect(
      fsSpecificOptions([
        "rw",
        "relatime",
        "nofail",
        "x-systemd.automount",
        "_netdev",
        "dax=always",
        "comment=x",
        "defaults",
      ]),
    ).toEqual(["dax=always"]);
  });
});
