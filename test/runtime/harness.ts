/**
 * Test harness for the runtime modules: bundles a module the way the generator does (esbuild, one
 * CommonJS file for Node 18) with an ajv validator compiled from the schema's $defs (useDefaults),
 * and runs it as a child process against a fake guest: a VIRTIO_FS_ROOT with mountinfo, passwd,
 * group, /sys and /proc files, and a VIRTIO_FS_BIN_DIR of fake mount/umount/modprobe/systemctl/dmesg/
 * modinfo/virsh programs that log their calls and keep the fake mountinfo up to date.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compile } from "../../src/compile";
import { moduleFallbacks } from "../../src/ir/lookup";

const REPO = path.resolve(__dirname, "../..");
let bundleDir: string | undefined;

export type ModuleName = "virtio_fs_mount" | "virtio_fs_info" | "virtio_fs_domain";

/**
 * The shipped module: the bundle `npm run generate` wrote into the collection (ajv standalone
 * validator, esbuild, WANT_JSON header). Module tests run exactly what Ansible ships to a guest.
 */
export function bundle(name: ModuleName, repo = REPO): string {
  return path.join(repo, "collection/ansible_collections/ai_how/virtio_fs/plugins/modules", `${name}.cjs`);
}

/** Bundles an arbitrary entry source (resolved from the repository root) and returns the bundle path. */
export function bundleSource(label: string, contents: string): string {
  const text = bundleText(contents, `${label}.ts`);
  if (!bundleDir || !fs.existsSync(bundleDir))
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-runtime-bundles-"));
  const file = path.join(bundleDir, `${label}.js`);
  fs.writeFileSync(file, text);
  return file;
}

/** Runs a bundle with an arguments file holding argsText; stdout must be exactly one JSON line. */
export function runBundle(file: string, argsText: string | undefined, env: Record<string, string> = {}): ModuleOutput {
  const argv = [file];
  if (argsText !== undefined) {
    const argsFile = path.join(
      os.tmpdir(),
      `virtio-fs-runtime-args-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.json`,
    );
    fs.writeFileSync(argsFile, argsText);
    argv.push(argsFile);
  }
  const r = spawnSync(process.execPath, argv, {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  if (argv[1]) fs.rmSync(argv[1], { force: true });
  const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
  if (lines.length !== 1)
    throw new Error(`expected exactly one line of JSON on stdout, got:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return { result: JSON.parse(lines[0]), stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Bundles only the runtime entry with a stub validator (what ships, minus the generated validator). */
export function bundleRuntimeOnly(name: ModuleName): string {
  const src = `import { runModule } from "./src/runtime/ansible";
import { main } from "./src/runtime/modules/${name}";
const validate = (() => true) as any;
runModule("${name}", validate, main as any);`;
  return bundleText(src);
}

/** One CommonJS file for Node 18, ASCII only: the options the generator bundles modules with. */
function bundleText(contents: string, sourcefile?: string): string {
  const esbuild = require("esbuild");
  const out = esbuild.buildSync({
    stdin: { contents, resolveDir: REPO, loader: "ts", sourcefile },
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    charset: "ascii",
    write: false,
  });
  return out.outputFiles[0].text;
}

/**
 * Faults injected into the module process's own file system calls (root ignores permissions, so a
 * read-only directory cannot be made with chmod in a test): see faultBundle.
 */
export interface FsFaults {
  /** Creating a file (open with the "x" flag, as atomic-write's temp file) in these directories fails with this errno. */
  createIn?: Record<string, string>;
  /** mkdir of these paths fails with this errno. */
  mkdir?: Record<string, string>;
}

const faultBundles = new Map<string, string>();

/**
 * The module with a stub validator (like bundleRuntimeOnly) whose fs calls fail as VIRTIO_FS_TEST_FAULTS
 * (JSON FsFaults) says. The bundled modules read fs through esbuild's lazy getters, so patching the
 * fs module object before main runs reaches every call.
 */
export function faultBundle(name: ModuleName): string {
  const cached = faultBundles.get(name);
  if (cached && fs.existsSync(cached)) return cached;
  const file = bundleSource(
    `${name}-faults`,
    `import { runModule } from "./src/runtime/ansible";
import { main } from "./src/runtime/modules/${name}";
const realFs = require("fs");
const nodePath = require("path");
const faults = JSON.parse(process.env.VIRTIO_FS_TEST_FAULTS || "{}");
const injected = (code: string, syscall: string, p: string) =>
  Object.assign(new Error(code + ": injected fault, " + syscall + " '" + p + "'"), { code, syscall, path: p });
const openSync = realFs.openSync;
realFs.openSync = (p: any, flags: any, ...rest: any[]) => {
  const code = faults.createIn?.[nodePath.dirname(String(p))];
  if (code && typeof flags === "string" && flags.includes("x")) throw injected(code, "open", String(p));
  return openSync(p, flags, ...rest);
};
const mkdirSync = realFs.mkdirSync;
realFs.mkdirSync = (p: any, ...rest: any[]) => {
  const code = faults.mkdir?.[String(p)];
  if (code) throw injected(code, "mkdir", String(p));
  return mkdirSync(p, ...rest);
};
import validate from "./src/runtime/generated/${name}/validate";
// The schema's validator fills in the defaults (the module restates none) but its verdict is ignored,
// so inputs the schema refuses (a tag like --bind) still reach the module's own defences.
// The fallbacks the generated entry passes (x-fallback-from), from the same schema.
const fallbacks = ${JSON.stringify(moduleFallbacks(compile(REPO).modules.find((m) => m.name === name)!))};
runModule("${name}", ((args: unknown) => { validate(args); return true; }) as any, ((args: any, ctx: any) => (main as any)(args, ctx, fallbacks)) as any);
`,
  );
  faultBundles.set(name, file);
  return file;
}

export interface FakeConfig {
  /** Tags the fake VM offers to mount; undefined: any tag mounts. */
  offered?: string[];
  /** mount reports "unknown filesystem type" (module not loaded). */
  unknownFs?: boolean;
  /** modprobe virtiofs fails. */
  noModule?: boolean;
  /** Mount points umount reports busy (not with -l). */
  busy?: string[];
  /** Mount points (canonical) whose mount or umount does not return for 20 s, as on a dead virtiofsd. */
  hang?: string[];
  /** mount -t fusectl fails (as where /sys is read-only). */
  fusectlFail?: boolean;
  /** Mount points (canonical) whose mount fails with "permission denied". */
  mountFail?: string[];
  /** mount -o remount fails. */
  remountFail?: boolean;
  /** mount -o remount succeeds without changing anything. */
  remountNoop?: boolean;
  /** dmesg output. */
  dmesg?: string;
  /** modinfo virtiofs succeeds. */
  modinfo?: boolean;
  /** virsh: state of the domain, daemon version, define failure. */
  domstate?: string;
  libvirtVersion?: string;
  defineFail?: string;
  /** How the fake mount(8) applies atime options: "mount2" (util-linux < 2.39, default) or "setattr". */
  mountApi?: "mount2" | "setattr";
  /** virsh: domain ids (a number virsh reads as an id before a name) mapped to domain names. */
  ids?: Record<string, string>;
  /**
   * virsh, running domains: dumpxml without --inactive reads domains/NAME.live.xml (else the persistent
   * XML); attach-device appends to it with alias fsN and starts a fake virtiofsd (ROOT/proc/PID with
   * cmdline and a root link to the source, pid file in runDir); detach-device removes the tag;
   * destroy + start make the live XML the persistent one. attachFail/detachFail: libvirt's error.
   */
  domid?: string;
  runDir?: string;
  attachFail?: string;
  detachFail?: string;
}

const FAKE_COMMON = `
const fs = require("fs"), path = require("path");
const BIN = path.dirname(process.argv[1]);
const ROOT = process.env.VIRTIO_FS_ROOT;
const cfg = JSON.parse(fs.readFileSync(path.join(BIN, "fake.json"), "utf8"));
const argv = process.argv.slice(2);
fs.appendFileSync(path.join(BIN, "calls.log"), JSON.stringify([path.basename(process.argv[1]), ...argv]) + "\\n");
const MI = path.join(ROOT, "proc/self/mountinfo");
const esc = (s) => s.replace(/[ \\t\\n\\\\]/g, (c) => "\\\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));
const unesc = (s) => s.replace(/\\\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
const readMi = () => fs.readFileSync(MI, "utf8").split("\\n").filter((l) => l.trim() !== "");
const writeMi = (lines) => fs.writeFileSync(MI, lines.map((l) => l + "\\n").join(""));
// Per-mount flags as root's mount(8) and the kernel make them (util-linux optmap.c, context_mount.c,
// fs/namespace.c): a later option wins per flag; user/users imply noexec,nosuid,nodev and owner/group
// nosuid,nodev, right after the first option of their kind; atime: mount(2) bits (strictatime beats
// noatime beats relatime) or, with cfg.mountApi "setattr" (util-linux >= 2.39), the last one set.
const vfs = (opts) => {
  const o = opts.split(",").filter((x) => x);
  const name = (x) => x.split("=")[0];
  for (const [k, off, implied] of [["owner", "noowner", "nosuid,nodev"], ["group", "nogroup", "nosuid,nodev"], ["user", "nouser", "noexec,nosuid,nodev"], ["users", "nousers", "noexec,nosuid,nodev"]]) {
    const at = o.map((x, i) => [name(x), i]).filter(([n]) => n === k || n === off);
    if (at.length === 0 || at[at.length - 1][0] !== k || (k === "user" && o[at[0][1]].includes("="))) continue;
    o.splice(at[0][1] + 1, 0, ...implied.split(","));
  }
  const BITS = { ro: ["ro", 1], rw: ["ro", 0], nosuid: ["nosuid", 1], suid: ["nosuid", 0], nodev: ["nodev", 1], dev: ["nodev", 0],
    noexec: ["noexec", 1], exec: ["noexec", 0], nodiratime: ["nodiratime", 1], diratime: ["nodiratime", 0], nosymfollow: ["nosymfollow", 1],
    symfollow: ["nosymfollow", 0], noatime: ["noatime", 1], atime: ["noatime", 0], relatime: ["relatime", 1], norelatime: ["relatime", 0],
    strictatime: ["strictatime", 1], nostrictatime: ["strictatime", 0] };
  const bit = {};
  let last = "relatime";
  for (const x of o) {
    const b = BITS[name(x)];
    if (!b) continue;
    bit[b[0]] = b[1];
    if (b[1] && ["noatime", "relatime", "strictatime"].includes(b[0])) last = b[0];
  }
  const atime = cfg.mountApi === "setattr" ? last : bit.strictatime ? "strictatime" : bit.noatime ? "noatime" : "relatime";
  const out = [bit.ro ? "ro" : "rw"];
  for (const f of ["nosuid", "nodev", "noexec"]) if (bit[f]) out.push(f);
  if (atime === "noatime") out.push("noatime");
  if (bit.nodiratime) out.push("nodiratime");
  if (atime === "relatime") out.push("relatime");
  if (bit.nosymfollow) out.push("nosymfollow");
  return out.join(",");
};
const fail = (msg, rc) => { process.stderr.write(msg + "\\n"); process.exit(rc); };
// fusectl is mounted when mountinfo lists it (the connections directory also exists without it)
const fusectlOn = () => readMi().some((l) => / - fusectl /.test(l));
`;

const FAKES: Record<string, string> = {
  mount: `
// Like util-linux: options until "--", positional arguments after it; an unknown option is an error,
// so a tag such as --bind that is not behind "--" fails loudly. The target is canonicalised (realpath)
// as mount(8) does, so mountinfo lists the resolved path.
let type, opts = "", pos = [], dashdash = false;
for (let i = 0; i < argv.length; i++) {
  if (dashdash || !argv[i].startsWith("-")) pos.push(argv[i]);
  else if (argv[i] === "--") dashdash = true;
  else if (argv[i] === "-t") type = argv[++i];
  else if (argv[i] === "-o") opts = argv[++i];
  else fail("mount: unrecognized option '" + argv[i] + "'", 1);
}
const canon = (p) => { try { return fs.realpathSync(p); } catch { return p; } };
if (opts.startsWith("remount")) {
  const mp = canon(pos[0]);
  if (cfg.remountFail) fail("mount: " + mp + ": mount point not mounted or bad option.", 32);
  const lines = readMi();
  let idx = -1;
  lines.forEach((l, i) => { if (unesc(l.split(" ")[4]) === mp) idx = i; });
  if (idx < 0) fail("mount: " + mp + ": not mounted", 32);
  if (!cfg.remountNoop) { const f = lines[idx].split(" "); f[5] = vfs(opts.slice("remount,".length)); lines[idx] = f.join(" "); writeMi(lines); }
  process.exit(0);
}
if (pos.length !== 2) fail("mount: expected a source and a target, got " + JSON.stringify(pos), 1);
if (type === "fusectl") {
  // like the kernel: the target must be the fuse module's directory; fusectl then lists every
  // existing FUSE connection (and each later mount adds its own, below)
  if (cfg.fusectlFail) fail("mount: " + pos[1] + ": permission denied.", 32);
  if (!fs.existsSync(pos[1])) fail("mount: " + pos[1] + ": mount point does not exist.", 32);
  const mp = fs.realpathSync(pos[1]);
  const lines = readMi();
  const id = 100 + lines.length;
  lines.push(id + " 24 0:" + id + " / " + esc(mp) + " rw,nosuid,nodev,noexec,relatime shared:" + id + " - fusectl " + esc(pos[0]) + " rw");
  for (const l of lines) {
    if (!/ - virtiofs /.test(l)) continue;
    const conn = path.join(mp, l.split(" ")[2].split(":")[1]);
    fs.mkdirSync(conn, { recursive: true });
    fs.writeFileSync(path.join(conn, "waiting"), "0\\n");
  }
  writeMi(lines);
  process.exit(0);
}
const [tag, given] = pos;
if (process.env.FAKE_FSTAB) {
  const seen = fs.existsSync(process.env.FAKE_FSTAB) ? fs.readFileSync(process.env.FAKE_FSTAB, "utf8") : null;
  fs.appendFileSync(path.join(BIN, "fstab-at-mount.log"), JSON.stringify(seen) + "\\n");
}
if (type !== "virtiofs") fail("mount: unexpected type " + type, 32);
if (cfg.unknownFs) fail("mount: " + given + ": unknown filesystem type 'virtiofs'.", 32);
if (cfg.offered && !cfg.offered.includes(tag)) fail("mount: " + given + ": wrong fs type, bad option, bad superblock on " + tag + ", missing codepage or helper program, or other error.", 32);
if (!fs.existsSync(given) || !fs.statSync(given).isDirectory()) fail("mount: " + given + ": mount point does not exist.", 32);
const mp = canon(given);
if ((cfg.hang || []).includes(mp)) setTimeout(() => {}, 20000);
else {
if ((cfg.mountFail || []).includes(mp)) fail("mount: " + given + ": permission denied.", 32);
const lines = readMi();
const id = 100 + lines.length;
lines.push(id + " 1 0:" + id + " / " + esc(mp) + " " + vfs(opts) + " shared:" + id + " - virtiofs " + esc(tag) + " rw");
writeMi(lines);
// a FUSE connection per mount, where the fake guest has fusectl
const conns = path.join(ROOT, "sys/fs/fuse/connections");
if (fusectlOn()) { fs.mkdirSync(path.join(conns, String(id))); fs.writeFileSync(path.join(conns, String(id), "waiting"), "0\\n"); }
}
`,
  umount: `
const pos = [];
let dashdash = false, lazy = false;
for (const a of argv) {
  if (dashdash || !a.startsWith("-")) pos.push(a);
  else if (a === "--") dashdash = true;
  else if (a === "-l") lazy = true;
  else fail("umount: unrecognized option '" + a + "'", 1);
}
if (pos.length !== 1) fail("umount: expected one target, got " + JSON.stringify(pos), 1);
let mp = pos[0];
// a real umount(8) canonicalises its target (a stat that blocks on a dead share); umount -l does not
if (!lazy) try { mp = fs.realpathSync(mp); } catch {}
if (!lazy && (cfg.hang || []).includes(mp)) setTimeout(() => {}, 20000);
else {
if (!lazy && ((cfg.busy || []).includes(mp) || (cfg.busy || []).includes(pos[0]))) fail("umount: " + pos[0] + ": target is busy.", 32);
const lines = readMi();
let idx = -1;
lines.forEach((l, i) => { if (unesc(l.split(" ")[4]) === mp) idx = i; });
if (idx < 0) fail("umount: " + pos[0] + ": not mounted.", 32);
if (lazy) {
  // what the connection's abort file held when the lazy unmount came (the order of a recovery)
  const minor = lines[idx].split(" ")[2].split(":")[1];
  const abort = path.join(ROOT, "sys/fs/fuse/connections", minor, "abort");
  fs.appendFileSync(path.join(BIN, "lazy.log"), JSON.stringify({ mp, abort: fs.existsSync(abort) ? fs.readFileSync(abort, "utf8") : null }) + "\\n");
}
lines.splice(idx, 1);
writeMi(lines);
}
`,
  modprobe: `
if (cfg.noModule) fail("modprobe: FATAL: Module virtiofs not found in directory /lib/modules/6.1.0-test", 1);
fs.mkdirSync(path.join(ROOT, "sys/module/virtiofs"), { recursive: true });
`,
  systemctl: ``,
  dmesg: `process.stdout.write(cfg.dmesg || "");`,
  modinfo: `if (!cfg.modinfo) fail("modinfo: ERROR: Module virtiofs not found.", 1); process.stdout.write("filename: /lib/modules/x/kernel/fs/fuse/virtiofs.ko\\n");`,
  virsh: `
const STATE = path.join(BIN, "domains");
// the module passes every value as --option=value (first "=" splits), like vsh.c parses it
if (!argv[0].startsWith("--connect=")) fail("error: expected --connect=URI first, got " + argv[0], 1);
const a = argv.slice(1);
const opt = (n) => { const t = a.find((x) => x.startsWith("--" + n + "=")); return t === undefined ? undefined : t.slice(n.length + 3); };
// virsh looks a domain up by id, then UUID, then name: cfg.ids maps fake ids to names
const lookup = (d) => {
  if (cfg.ids && cfg.ids[d]) return cfg.ids[d];
  for (const f of fs.readdirSync(STATE)) if (fs.readFileSync(path.join(STATE, f), "utf8").includes("<uuid>" + d + "</uuid>")) return f.slice(0, -4);
  return d;
};
if (a[0] === "dumpxml") {
  const d = opt("domain");
  const live = path.join(STATE, lookup(d) + ".live.xml");
  const f = !a.includes("--inactive") && fs.existsSync(live) ? live : path.join(STATE, lookup(d) + ".xml");
  if (d === undefined || !fs.existsSync(f)) fail("error: failed to get domain '" + d + "'", 1);
  process.stdout.write(fs.readFileSync(f, "utf8"));
} else if (a[0] === "define") {
  if (cfg.defineFail) fail(cfg.defineFail, 1);
  const file = opt("file");
  const st = fs.statSync(file);
  fs.appendFileSync(path.join(BIN, "defined.log"), JSON.stringify({ file, mode: st.mode & 0o777, dirMode: fs.statSync(path.dirname(file)).mode & 0o777 }) + "\\n");
  const xml = fs.readFileSync(file, "utf8");
  const name = xml.split("<name>")[1].split("</name>")[0];
  fs.writeFileSync(path.join(STATE, name + ".xml"), xml);
  process.stdout.write("Domain '" + name + "' defined from " + file + "\\n");
} else if (a[0] === "domstate") {
  if (!fs.existsSync(path.join(STATE, lookup(opt("domain")) + ".xml"))) fail("error: failed to get domain '" + opt("domain") + "'", 1);
  process.stdout.write((cfg.domstate || "shut off") + "\\n\\n");
} else if (a[0] === "version") {
  if (!cfg.libvirtVersion) fail("error: failed to connect to the hypervisor", 1);
  const v = cfg.libvirtVersion;
  process.stdout.write("Compiled against library: libvirt " + v + "\\nUsing library: libvirt " + v + "\\nUsing API: QEMU " + v + "\\nRunning hypervisor: QEMU 7.2.0\\nRunning against daemon: " + v + "\\n");
} else if (a[0] === "domid") {
  process.stdout.write((cfg.domid || "1") + "\\n\\n");
} else if (a[0] === "attach-device" || a[0] === "detach-device") {
  if (!a.includes("--live")) fail("error: expected --live", 1);
  const name = lookup(opt("domain"));
  const liveFile = path.join(STATE, name + ".live.xml");
  if (!fs.existsSync(liveFile)) fs.copyFileSync(path.join(STATE, name + ".xml"), liveFile);
  const dev = fs.readFileSync(opt("file"), "utf8");
  fs.appendFileSync(path.join(BIN, "devices.log"), JSON.stringify([a[0], dev]) + "\\n");
  const tag = dev.split("<target dir='")[1].split("'")[0];
  let xml = fs.readFileSync(liveFile, "utf8");
  if (a[0] === "detach-device") {
    if (cfg.detachFail) fail(cfg.detachFail, 1);
    const blocks = xml.split(/(?=    <filesystem )/);
    const kept = blocks.filter((b) => !(b.startsWith("    <filesystem ") && b.includes("<target dir='" + tag + "'/>")));
    if (kept.length === blocks.length) fail("error: device not found: matching filesystem not found", 1);
    // the removed block ends at its </filesystem>: keep what follows it
    xml = blocks.map((b) => kept.includes(b) ? b : b.slice(b.indexOf("</filesystem>\\n") + "</filesystem>\\n".length)).join("");
    fs.writeFileSync(liveFile, xml);
    process.stdout.write("Device detached successfully\\n\\n");
  } else {
    if (cfg.attachFail) fail(cfg.attachFail, 1);
    const n = (xml.match(/<filesystem /g) || []).length + 10;
    const withAlias = dev.trimEnd().replace(/<\\/filesystem>$/, "  <alias name='fs" + n + "'/>\\n    </filesystem>");
    xml = xml.replace("  </devices>", "    " + withAlias + "\\n  </devices>");
    fs.writeFileSync(liveFile, xml);
    const src = dev.split("<source dir='")[1].split("'")[0];
    const pid = 7000 + n;
    fs.mkdirSync(path.join(ROOT, "proc", String(pid)), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "proc", String(pid), "cmdline"), "/usr/libexec/virtiofsd\\0--fd=3\\0--shared-dir\\0" + src + "\\0");
    fs.writeFileSync(path.join(ROOT, "proc", String(pid), "stat"), pid + " (virtiofsd) S 1 0");
    fs.symlinkSync(src, path.join(ROOT, "proc", String(pid), "root"));
    if (cfg.runDir) fs.writeFileSync(path.join(cfg.runDir, (cfg.domid || "1") + "-" + name + "-fs" + n + "-fs.pid"), pid + "\\n");
    process.stdout.write("Device attached successfully\\n\\n");
  }
} else if (a[0] === "destroy" || a[0] === "start") {
  const name = lookup(opt("domain"));
  fs.rmSync(path.join(STATE, name + ".live.xml"), { force: true });
  process.stdout.write("Domain '" + name + "' " + (a[0] === "destroy" ? "destroyed" : "started") + "\\n\\n");
} else fail("virsh: unknown command " + a[0], 1);
`,
};

/**
 * getent passwd|group [--] KEY... answering from the fake root's etc/passwd and etc/group, by name or
 * numeric id; exit 2 when a key is not found. A query, so it is not logged in calls.log.
 */
const FAKE_GETENT = `
const fs = require("fs"), path = require("path");
const args = process.argv.slice(2).filter((a) => a !== "--");
const [db, ...keys] = args;
if (db !== "passwd" && db !== "group") { process.stderr.write("Unknown database: " + db + "\\n"); process.exit(1); }
const rows = fs.readFileSync(path.join(process.env.VIRTIO_FS_ROOT, "etc", db), "utf8").split("\\n").filter((l) => l && !l.startsWith("#"));
let rc = 0;
for (const k of keys) {
  const row = rows.find((l) => l.split(":")[0] === k) || (/^\\d+$/.test(k) ? rows.find((l) => l.split(":")[2] === k) : undefined);
  if (row) process.stdout.write(row + "\\n"); else rc = 2;
}
process.exit(rc);
`;

export const BASE_MOUNTINFO =
  [
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro",
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
    "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
  ].join("\n") + "\n";

export interface World {
  dir: string;
  root: string;
  bin: string;
  fstab: string;
  /** A directory for mount points. */
  mnt: string;
  setFake(cfg: FakeConfig): void;
  calls(): string[][];
  clearCalls(): void;
  mountinfo(): string;
  setMountinfo(text: string): void;
  /** Adds a virtiofs line to the fake mountinfo (as if mounted earlier); returns its device "0:N". */
  addMount(tag: string, mp: string, perMount?: string): string;
  /**
   * Gives the mount at mp a fake fusectl connection directory (sys/fs/fuse/connections/N with
   * `waiting`), mounting fusectl first (so later fake mounts get one too); returns its path.
   */
  addFuseConnection(mp: string, waiting?: number): string;
  writeFstab(text: string): void;
  readFstab(): string;
  /** Runs a module with args (plus _ansible_* keys) and returns its parsed stdout. */
  run(name: ModuleName, args: Record<string, unknown>, extraEnv?: Record<string, string>): ModuleOutput;
  /** Runs the module without schema validation and with file system faults injected (faultBundle). */
  runWithFaults(
    name: ModuleName,
    args: Record<string, unknown>,
    faults?: FsFaults,
    extraEnv?: Record<string, string>,
  ): ModuleOutput;
  cleanup(): void;
}

export interface ModuleOutput {
  result: Record<string, any>;
  stdout: string;
  stderr: string;
  status: number | null;
}

export interface WorldOptions {
  /** The repository whose shipped bundles run (default: this one; the schema mutation test uses a copy). */
  repo?: string;
  systemd?: boolean;
  moduleLoaded?: boolean;
  tagsDir?: string[] | null;
  users?: Record<string, number>;
  groups?: Record<string, number>;
  /**
   * The fuse module's /sys/fs/fuse/connections: "mounted" with fusectl on it, "unmounted" (the empty
   * directory, as on a guest whose fuse module was loaded after boot). Unset: no such directory.
   */
  fusectl?: "mounted" | "unmounted";
}

export function escMountinfo(s: string): string {
  let out = "";
  for (const c of s)
    out +=
      c === " " || c === "\t" || c === "\n" || c === "\\" ? "\\" + c.charCodeAt(0).toString(8).padStart(3, "0") : c;
  return out;
}

export function makeWorld(opts: WorldOptions = {}): World {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-runtime-world-"));
  const root = path.join(dir, "root");
  const bin = path.join(dir, "bin");
  const mnt = path.join(dir, "mnt");
  const fstab = path.join(dir, "etc-fstab");
  for (const d of [
    root,
    bin,
    mnt,
    path.join(bin, "domains"),
    path.join(root, "proc/self"),
    path.join(root, "proc/1"),
    path.join(root, "etc"),
    path.join(root, "sys/module"),
  ]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.writeFileSync(path.join(root, "proc/self/mountinfo"), BASE_MOUNTINFO);
  if (opts.fusectl) fs.mkdirSync(path.join(root, "sys/fs/fuse/connections"), { recursive: true });
  fs.writeFileSync(path.join(root, "proc/1/comm"), opts.systemd === false ? "init\n" : "systemd\n");
  fs.writeFileSync(path.join(root, "proc/filesystems"), "nodev\tsysfs\nnodev\tproc\n\text4\n");
  if (opts.moduleLoaded !== false) {
    // a guest where the module is loaded and configured to load at boot
    fs.mkdirSync(path.join(root, "sys/module/virtiofs"), { recursive: true });
    fs.mkdirSync(path.join(root, "etc/modules-load.d"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/modules-load.d/virtiofs.conf"), "virtiofs\n");
  }
  if (opts.tagsDir) {
    opts.tagsDir.forEach((t, i) => {
      fs.mkdirSync(path.join(root, `sys/fs/virtiofs/${i}`), { recursive: true });
      fs.writeFileSync(path.join(root, `sys/fs/virtiofs/${i}/tag`), t + "\n");
    });
  }
  const users = { root: 0, admin: process.getuid!(), alice: 1234, ...(opts.users ?? {}) };
  const groups = { root: 0, admin: process.getgid!(), staff: 2345, ...(opts.groups ?? {}) };
  fs.writeFileSync(
    path.join(root, "etc/passwd"),
    Object.entries(users)
      .map(([n, id]) => `${n}:x:${id}:${id}:${n}:/home/${n}:/bin/sh`)
      .join("\n") + "\n",
  );
  fs.writeFileSync(
    path.join(root, "etc/group"),
    Object.entries(groups)
      .map(([n, id]) => `${n}:x:${id}:`)
      .join("\n") + "\n",
  );
  for (const [name, body] of Object.entries(FAKES)) {
    fs.writeFileSync(path.join(bin, name), `#!${process.execPath}\n${FAKE_COMMON}\n${body}\n`, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(bin, "getent"), `#!${process.execPath}\n${FAKE_GETENT}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "fake.json"), "{}");

  /** Lists fusectl in mountinfo (on the connections directory) unless it is there. */
  const mountFusectl = () => {
    const mi = fs.readFileSync(path.join(root, "proc/self/mountinfo"), "utf8");
    if (/ - fusectl /.test(mi)) return;
    const conns = path.join(root, "sys/fs/fuse/connections");
    fs.mkdirSync(conns, { recursive: true });
    fs.appendFileSync(
      path.join(root, "proc/self/mountinfo"),
      `25 24 0:25 / ${escMountinfo(fs.realpathSync(conns))} rw,nosuid,nodev,noexec,relatime shared:13 - fusectl fusectl rw\n`,
    );
  };
  if (opts.fusectl === "mounted") mountFusectl();

  const world: World = {
    dir,
    root,
    bin,
    fstab,
    mnt,
    setFake: (cfg) => fs.writeFileSync(path.join(bin, "fake.json"), JSON.stringify(cfg)),
    calls: () => {
      const f = path.join(bin, "calls.log");
      if (!fs.existsSync(f)) return [];
      return fs
        .readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l));
    },
    clearCalls: () => fs.rmSync(path.join(bin, "calls.log"), { force: true }),
    mountinfo: () => fs.readFileSync(path.join(root, "proc/self/mountinfo"), "utf8"),
    setMountinfo: (text) => fs.writeFileSync(path.join(root, "proc/self/mountinfo"), text),
    addMount: (tag, mp, perMount = "rw,relatime") => {
      const n = world
        .mountinfo()
        .split("\n")
        .filter((l) => l).length;
      fs.appendFileSync(
        path.join(root, "proc/self/mountinfo"),
        `${200 + n} 22 0:${200 + n} / ${escMountinfo(mp)} ${perMount} shared:${200 + n} - virtiofs ${escMountinfo(tag)} rw\n`,
      );
      return `0:${200 + n}`;
    },
    addFuseConnection: (mp, waiting = 0) => {
      const line = world
        .mountinfo()
        .split("\n")
        .filter((l) => l.split(" ")[4] === escMountinfo(mp))
        .at(-1);
      if (!line) throw new Error(`no mount at ${mp}`);
      mountFusectl();
      const dir = path.join(root, "sys/fs/fuse/connections", line.split(" ")[2].split(":")[1]);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "waiting"), `${waiting}\n`);
      return dir;
    },
    writeFstab: (text) => fs.writeFileSync(fstab, text),
    readFstab: () => fs.readFileSync(fstab, "utf8"),
    run: (name, args, extraEnv = {}) =>
      runBundle(bundle(name, opts.repo), JSON.stringify(args), {
        VIRTIO_FS_ROOT: root,
        VIRTIO_FS_BIN_DIR: bin,
        ...extraEnv,
      }),
    runWithFaults: (name, args, faults = {}, extraEnv = {}) =>
      runBundle(faultBundle(name), JSON.stringify(args), {
        VIRTIO_FS_ROOT: root,
        VIRTIO_FS_BIN_DIR: bin,
        VIRTIO_FS_TEST_FAULTS: JSON.stringify(faults),
        ...extraEnv,
      }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return world;
}

/** Calls of one fake program, without the program name. */
export function callsOf(world: World, program: string): string[][] {
  return world
    .calls()
    .filter((c) => c[0] === program)
    .map((c) => c.slice(1));
}

export const isRoot = process.getuid?.() === 0;
