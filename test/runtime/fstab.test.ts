import {
  appendFstabEntry,
  decodeFstabField,
  encodeFstabField,
  formatFstabEntry,
  normaliseMountPath,
  parseFstab,
  parseFstabLine,
  replaceFstabLine,
  sameFstabEntry,
  serialiseFstab,
} from "../../src/runtime/fstab";

describe("fstab octal escapes", () => {
  test("decodes \\040 \\011 \\012 \\134 and leaves other backslashes alone", () => {
    expect(decodeFstabField("/mnt/host\\040data\\011tab\\012nl\\134bs")).toBe("/mnt/host data\ttab\nnl\\bs");
    expect(decodeFstabField("/mnt/a\\101b\\x")).toBe("/mnt/a\\101b\\x");
    expect(decodeFstabField("/mnt/end\\04")).toBe("/mnt/end\\04");
  });
  test("encodes space, tab, newline and backslash", () => {
    expect(encodeFstabField("/mnt/host data\ttab\nnl\\bs")).toBe("/mnt/host\\040data\\011tab\\012nl\\134bs");
  });
  test("round trip of awkward paths", () => {
    for (const p of ["/a b", "/x\\040y", "/t\tt", "/plain", "/ä ö"])
      expect(decodeFstabField(encodeFstabField(p))).toBe(p);
  });
});

describe("parseFstab / serialiseFstab", () => {
  const text = [
    "# /etc/fstab: static file system information.",
    "#",
    "UUID=1234-abcd   /               ext4    errors=remount-ro 0       1",
    "",
    "\t# indented comment",
    "datasets\t/mnt/host\\040datasets  virtiofs\tro,nofail   0  0",
    "garbage-line",
    "tmpfs /tmp tmpfs",
  ].join("\n");

  test("serialises back byte for byte (no trailing newline kept)", () => {
    expect(serialiseFstab(parseFstab(text))).toBe(text);
    expect(serialiseFstab(parseFstab(text + "\n"))).toBe(text + "\n");
    expect(serialiseFstab(parseFstab("\n\n"))).toBe("\n\n");
    expect(serialiseFstab(parseFstab(""))).toBe("");
  });

  test("keeps CRLF lines", () => {
    const crlf = "# c\r\nproc /proc proc defaults 0 0\r\n";
    const f = parseFstab(crlf);
    expect(f.lines[1].entry?.mntops).toBe("defaults");
    expect(f.lines[1].entry?.passno).toBe("0");
    expect(serialiseFstab(f)).toBe(crlf);
  });

  test("parses entries with odd spacing and escapes; comments and short lines are not entries", () => {
    const f = parseFstab(text);
    expect(f.trailingNewline).toBe(false);
    expect(f.lines.map((l) => l.entry === undefined)).toEqual([true, true, false, true, true, false, true, false]);
    expect(f.lines[5].entry).toEqual({
      spec: "datasets",
      file: "/mnt/host datasets",
      vfstype: "virtiofs",
      mntops: "ro,nofail",
      freq: "0",
      passno: "0",
    });
    expect(f.lines[7].entry).toEqual({
      spec: "tmpfs",
      file: "/tmp",
      vfstype: "tmpfs",
      mntops: "defaults",
      freq: "0",
      passno: "0",
    });
  });

  test("appending to a file without trailing newline adds the separator and ends with a newline", () => {
    const f = parseFstab("# only a comment");
    appendFstabEntry(f, {
      spec: "t",
      file: "/mnt/a b",
      vfstype: "virtiofs",
      mntops: "rw,nofail",
      freq: "0",
      passno: "0",
    });
    expect(serialiseFstab(f)).toBe("# only a comment\nt /mnt/a\\040b virtiofs rw,nofail 0 0\n");
    const empty = parseFstab("");
    appendFstabEntry(empty, { spec: "t", file: "/m", vfstype: "virtiofs", mntops: "rw", freq: "0", passno: "0" });
    expect(serialiseFstab(empty)).toBe("t /m virtiofs rw 0 0\n");
  });

  test("replacing one line leaves the others untouched", () => {
    const f = parseFstab(text);
    replaceFstabLine(f, 5, {
      spec: "datasets",
      file: "/mnt/host datasets",
      vfstype: "virtiofs",
      mntops: "rw,nofail",
      freq: "0",
      passno: "0",
    });
    const lines = serialiseFstab(f).split("\n");
    expect(lines[5]).toBe("datasets /mnt/host\\040datasets virtiofs rw,nofail 0 0");
    expect(lines.filter((_, i) => i !== 5)).toEqual(text.split("\n").filter((_, i) => i !== 5));
  });

  test("sameFstabEntry ignores spacing and treats missing dump/pass as 0", () => {
    const a = parseFstabLine("t  /m\tvirtiofs rw")!;
    const b = parseFstabLine("t /m virtiofs rw 0 0")!;
    expect(sameFstabEntry(a, b)).toBe(true);
    expect(sameFstabEntry(a, parseFstabLine("t /m virtiofs ro 0 0")!)).toBe(false);
    expect(formatFstabEntry(a)).toBe("t /m virtiofs rw 0 0");
  });
});

describe("normaliseMountPath", () => {
  test("one spelling per mount point", () => {
    for (const p of [
      "/mnt/data",
      "/mnt/data/",
      "/mnt//data",
      "/mnt/./data",
      "//mnt/data//",
      "/mnt/x/../data",
      "/mnt/data/.",
    ]) {
      expect(normaliseMountPath(p)).toBe("/mnt/data");
    }
    expect(normaliseMountPath("/")).toBe("/");
    expect(normaliseMountPath("//")).toBe("/");
    expect(normaliseMountPath(decodeFstabField("/mnt/host\\040data/"))).toBe("/mnt/host data");
  });
  test("non-absolute fields (none, swap) are left as they are", () => {
    expect(normaliseMountPath("none")).toBe("none");
    expect(normaliseMountPath("swap")).toBe("swap");
  });
});
