/**
 * SLOW (about 10-20 s: npm pack, npm install from the tarball, six CLI runs).
 *
 * The package as a user gets it: `npm pack` (prepack bundles the CLI into dist/), the tarball
 * installed into a temporary prefix (dependencies from the npm cache, else the registry), the prefix
 * made read-only, and `vfsgen validate|render|inventory` run from another directory on
 * configurations elsewhere on disk. Root ignores write bits, so as root the CLI runs as nobody (the
 * kernel then refuses every write into the installation), and the installation is compared file for
 * file before and after: nothing is built or cached at run time.
 */
import * as fs from "fs";
import * as path from "path";
import execa from "execa";
import { ROOT, tmpDir } from "./helpers/tools";

const NOBODY = 65534;

/** npm as a user runs it: no npm_config_* from the npm that started jest (prefix, global, ...). */
function npmEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)) as [string, string][]);
}

/** Every file and directory under dir with its size, mode and mtime: what "nothing written" compares. */
function snapshot(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: false })
    .map(String)
    .sort()
    .map((rel) => {
      const s = fs.lstatSync(path.join(dir, rel));
      return `${rel} ${s.size} ${s.mode.toString(8)} ${s.mtimeMs}`;
    });
}

describe("the packed CLI (slow: npm pack + npm install)", () => {
  const work = tmpDir("packed");
  const prefix = path.join(work, "prefix");
  const configs = path.join(work, "elsewhere", "configs");
  const cwd = path.join(work, "cwd");
  let pkgDir = "";
  let entries: string[] = [];

  beforeAll(async () => {
    const pack = await execa("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: ROOT,
      env: npmEnv(),
      extendEnv: false,
    });
    const [info] = JSON.parse(pack.stdout) as { filename: string; name: string; files: { path: string }[] }[];
    entries = info.files.map((f) => f.path).sort();
    await execa(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        path.join(work, info.filename),
      ],
      { cwd: work, env: npmEnv(), extendEnv: false },
    );
    pkgDir = path.join(prefix, "lib", "node_modules", info.name);
    fs.mkdirSync(configs, { recursive: true });
    fs.mkdirSync(cwd);
    fs.copyFileSync(path.join(ROOT, "test/valid/seed-cluster.yml"), path.join(configs, "cluster.yml"));
    fs.copyFileSync(path.join(ROOT, "test/invalid/09-tag-duplicate.yml"), path.join(configs, "broken.yml"));
    // readable by nobody, writable by no one but root (and root's CLI runs below run as nobody)
    for (const d of [work, path.dirname(configs), configs, cwd]) fs.chmodSync(d, 0o755);
    await execa("chmod", ["-R", "a-w", prefix]);
  }, 120_000);

  afterAll(async () => {
    await execa("chmod", ["-R", "u+w", work], { reject: false });
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** The installed bin/vfsgen (npm's link in the prefix), as nobody when this test runs as root. */
  async function installed(args: string[]) {
    const bin = path.join(prefix, "bin", "vfsgen");
    const asNobody = process.getuid?.() === 0;
    const [cmd, argv] = asNobody
      ? ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", bin, ...args]]
      : [bin, args];
    return execa(cmd, argv, {
      cwd,
      reject: false,
      stripFinalNewline: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" },
    });
  }

  it("packs the built CLI, its bin and the schemas, and no sources", () => {
    // npm adds package.json, README and LICENSE itself; the "files" list adds the rest
    const licence = fs.existsSync(path.join(ROOT, "LICENSE")) ? ["LICENSE"] : [];
    expect(entries).toEqual(
      [
        ...licence,
        "README.md",
        "bin/vfsgen.js",
        "dist/vfsgen.cjs",
        "package.json",
        "schemas/cluster-config.schema.json",
        "schemas/collection.json",
        "schemas/virtio-fs-mount.schema.json",
      ].sort(),
    );
  });

  it("validates, renders and inventories a configuration elsewhere on disk from a read-only installation", async () => {
    const before = snapshot(prefix);
    const cluster = path.join(configs, "cluster.yml");
    const broken = path.join(configs, "broken.yml");

    const version = await installed(["--version"]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect([version.exitCode, version.stdout, version.stderr]).toEqual([0, `${pkg.version}\n`, ""]);

    const valid = await installed(["validate", cluster]);
    expect([valid.exitCode, valid.stdout, valid.stderr]).toEqual([0, "valid: 1 file(s), 1 VM(s), 2 share(s)\n", ""]);

    const invalid = await installed(["validate", "--format", "json", broken]);
    expect(invalid.exitCode).toBe(1);
    expect(JSON.parse(invalid.stdout).diagnostics).toEqual([
      {
        code: "VFS020",
        severity: "error",
        file: broken,
        line: 4,
        column: 10,
        pointer: "/virtio_fs_mounts/1/tag",
        message: 'duplicate tag "datasets": already used by /virtio_fs_mounts/0',
      },
    ]);

    const render = await installed(["render", cluster, "--vm", "controller"]);
    expect(render.stderr).toBe("");
    expect(render.exitCode).toBe(0);
    expect(render.stdout).toContain("<name>hpc-controller</name>");
    expect(render.stdout).toContain("<target dir='datasets'/>");

    const inventory = await installed(["inventory", cluster]);
    expect(inventory.stderr).toBe("");
    expect(inventory.exitCode).toBe(0);
    expect(inventory.stdout).toMatch(/hpc-controller:/);

    // generate belongs to a checkout: a usage error here, not a crash on a missing ts-morph
    const generate = await installed(["generate"]);
    expect(generate.exitCode).toBe(2);
    expect(generate.stderr).toMatch(/^vfsgen: error\[VFS060\] usage: generate runs in a checkout/);

    expect(snapshot(prefix)).toEqual(before);
    expect(fs.existsSync(path.join(pkgDir, ".cache"))).toBe(false);
    expect(fs.existsSync(path.join(pkgDir, "src"))).toBe(false);
  });
});
