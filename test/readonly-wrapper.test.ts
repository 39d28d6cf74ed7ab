// The read-only virtiofsd wrapper (collection host role files/virtiofsd-readonly), run as libvirt runs
// it, with a stand-in "virtiofsd" that tries to write into the share it was given. What it proves:
// the source is found in both argument styles (C: -o source=DIR; Rust: --shared-dir DIR), hostile
// paths are data, the stand-in's writes fail with EROFS, the host's mount table is untouched, and
// anything ambiguous stops before virtiofsd starts (fail closed). Mount namespaces need root: the
// namespace tests are skipped without it (the VM scenario molecule/readonly runs the real thing).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { COLLECTION, tmpDir } from "./helpers/tools";

const WRAPPER_SRC = path.join(COLLECTION, "roles/virtio_fs_host/files/virtiofsd-readonly");
const root = process.getuid?.() === 0;
const asRoot = root ? it : it.skip;

// writes into every share source it is given, then reports what happened
const FAKE = `#!/bin/sh
for a in "$@"; do
  case $a in source=*) d=\${a#source=}; d=\${d%%,*} ;; --shared-dir=*) d=\${a#--shared-dir=} ;; esac
  [ "\${next:-}" = 1 ] && d=$a
  next=; [ "$a" = --shared-dir ] && next=1
done
[ -n "\${d:-}" ] || { printf 'no share:'; printf ' [%s]' "$@"; echo; exit 0; }
if { echo x >"$d/written"; } 2>/dev/null; then echo WROTE; else echo REFUSED; fi
printf 'args:'; printf ' [%s]' "$@"; echo
`;

function setup() {
  const dir = tmpDir("ro-wrapper");
  const wrapper = path.join(dir, "virtiofsd-readonly");
  fs.copyFileSync(WRAPPER_SRC, wrapper);
  fs.chmodSync(wrapper, 0o755);
  const fake = path.join(dir, "fake virtiofsd");
  fs.writeFileSync(fake, FAKE, { mode: 0o755 });
  fs.writeFileSync(`${wrapper}.conf`, `${fake}\n`);
  return { dir, wrapper, fake };
}

const run = (wrapper: string, args: string[]) => {
  const r = spawnSync(wrapper, args, { encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
};
/**
 * The host's mounts at or under DIR. Only those: other jobs on the host (npm test's own background
 * image builds mount their chroots) change the rest of the table while this test runs.
 */
const mountsUnder = (dir: string) =>
  fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.split(" ")[4]?.startsWith(dir));

describe("read-only virtiofsd wrapper", () => {
  it("is a POSIX shell script shellcheck accepts", () => {
    const r = spawnSync("shellcheck", ["-s", "sh", WRAPPER_SRC], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  asRoot("serves hostile-named sources read-only in both argument styles; the host mount table is untouched", () => {
    const { dir, wrapper } = setup();
    expect(mountsUnder(dir)).toEqual([]);
    for (const name of ["plain", "sp ace", 'it\'s "q" $(touch pwned) `id` ; *', "new\nline", "-dash"]) {
      const src = path.join(dir, name);
      fs.mkdirSync(src);
      for (const args of [
        ["--fd=3", "-o", `source=${src},cache=always,xattr`, "--thread-pool-size=4"],
        ["--fd=3", "--shared-dir", src, "--cache", "never"],
        ["--fd=3", `--shared-dir=${src}`],
      ]) {
        const r = run(wrapper, args);
        expect([name, args, r.status, r.out.split("\n")[0], r.err]).toEqual([name, args, 0, "REFUSED", ""]);
        // virtiofsd gets exactly libvirt's arguments
        expect(r.out).toContain(`args: ${args.map((a) => `[${a}]`).join(" ")}`);
      }
      expect(fs.readdirSync(src)).toEqual([]);
    }
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
  });

  asRoot("fails closed: ambiguous or unusable sources never start virtiofsd", () => {
    const { dir, wrapper } = setup();
    const src = path.join(dir, "s");
    fs.mkdirSync(src);
    const cases: [string[], string][] = [
      [["-o", `source=${src},,source=/`], "the share source contains a comma"],
      [["-o", `source=${src}\\,x`], "the share source contains a backslash"],
      [["-o", `source=${src}`, "--shared-dir", "/"], "2 share sources in the arguments"],
      [["-o", `source=${src}`, "-o", "source=/"], "2 share sources in the arguments"],
      [["-o", "source=relative"], "the share source is not an absolute path"],
      [["-o", `source=${dir}/missing`], "the share source is not a directory"],
      [["--shared-dir"], "the last argument --shared-dir has no value"],
      [["-o"], "the last argument -o has no value"],
    ];
    for (const [args, why] of cases) {
      const r = run(wrapper, args);
      expect([args, r.status, r.out]).toEqual([args, 1, ""]);
      expect(r.err).toBe(`virtiofsd-readonly: ${why}${r.err.slice(`virtiofsd-readonly: ${why}`.length)}`);
      expect(r.err).toMatch(/; virtiofsd not started\n$/);
    }
    expect(fs.readdirSync(src)).toEqual([]);
  });

  it("passes queries without a share straight to virtiofsd, and refuses without a usable .conf", () => {
    const { wrapper, fake } = setup();
    expect(run(wrapper, ["--print-capabilities"])).toEqual({
      status: 0,
      out: "no share: [--print-capabilities]\n",
      err: "",
    });
    fs.writeFileSync(`${wrapper}.conf`, "virtiofsd\n");
    expect(run(wrapper, ["--version"]).err).toMatch(/does not name an absolute virtiofsd path; virtiofsd not started/);
    fs.writeFileSync(`${wrapper}.conf`, `${fake}.missing\n`);
    expect(run(wrapper, ["--version"]).err).toMatch(/is not executable; virtiofsd not started/);
    fs.rmSync(`${wrapper}.conf`);
    const r = run(wrapper, ["--version"]);
    expect([r.status, r.out]).toEqual([1, ""]);
    expect(r.err).toMatch(/cannot read .*\.conf \(the real virtiofsd path\); virtiofsd not started/);
  });
});
