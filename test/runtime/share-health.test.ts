/**
 * The pieces of share-health.ts and mount-point.ts that decide without a guest: how a probe's outcome
 * becomes a health, how an earlier probe still waiting is found, and path resolution that stops at a
 * share root instead of looking at it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { classifyProbe, findEarlierProbe, probeTitle } from "../../src/runtime/share-health";
import { kernelPathOf, observePath } from "../../src/runtime/mount-point";
import type { BoundedResult } from "../../src/runtime/bounded-child";

const ran = (stdout: string, extra: Partial<BoundedResult> = {}): BoundedResult => ({
  rc: 0,
  stdout,
  stderr: "",
  timedOut: false,
  elapsedMs: 12,
  ...extra,
});
const root = { uid: 0, gid: 0, mode: 0o755, nlink: 2, empty: false };

describe("classifyProbe", () => {
  test("each outcome has its health and says how it was found", () => {
    expect(classifyProbe(ran("", { timedOut: true, rc: undefined }), 5000)).toEqual({
      health: "not answering",
      source: "a stat/statfs/readdir of the share root got no answer within 5s",
    });
    const err = (op: string, code: string) => ran(JSON.stringify({ error: { op, code, message: `${code}: x` } }));
    expect(classifyProbe(err("stat", "ENOTCONN"), 5000).health).toBe("aborted");
    expect(classifyProbe(err("readdir", "ECONNABORTED"), 5000).health).toBe("aborted");
    expect(classifyProbe(err("stat", "ENOENT"), 5000).health).toBe("host directory gone");
    expect(classifyProbe(err("readdir", "ESTALE"), 5000).source).toContain(
      "readdir of the share root failed with ESTALE",
    );
    expect(classifyProbe(err("statfs", "EIO"), 5000)).toEqual({
      health: "not answering",
      source: "statfs of the share root failed: EIO: x",
    });
    const unlinked = classifyProbe(ran(JSON.stringify({ root: { ...root, nlink: 0, empty: true } })), 5000);
    expect(unlinked.health).toBe("host directory gone");
    expect(unlinked.source).toContain("0 links");
    expect(classifyProbe(ran(JSON.stringify({ root })), 5000)).toEqual({
      health: "ok",
      source: "the share root answered a stat, statfs and readdir in 0s",
      root,
    });
    expect(classifyProbe(ran("", { rc: 127, spawnError: "ENOENT" }), 5000).health).toBe("not answering");
  });
});

describe("an earlier probe still waiting", () => {
  test("is found by its title (device and mount point) with its age; another mount's is not", async () => {
    const entry = { device: "0:4242", mountPoint: `/mnt/probe title ${process.pid}` };
    // stands in for a probe left waiting by an earlier run: same title, still alive
    const child = spawn(
      process.execPath,
      ["-e", `process.title = ${JSON.stringify(probeTitle(entry))}; setTimeout(() => {}, 30000)`],
      {
        stdio: "ignore",
      },
    );
    try {
      let found: ReturnType<typeof findEarlierProbe>;
      for (let i = 0; i < 50 && !found; i++) {
        await new Promise((r) => setTimeout(r, 100));
        found = findEarlierProbe(entry);
      }
      expect(found?.pid).toBe(child.pid);
      expect(found!.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(found!.ageSeconds).toBeLessThan(60);
      expect(findEarlierProbe({ ...entry, device: "0:4243" })).toBeUndefined();
      expect(findEarlierProbe({ ...entry, mountPoint: `${entry.mountPoint}x` })).toBeUndefined();
    } finally {
      child.kill();
    }
  });
});

describe("paths never resolved through a share root", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "share-roots-")));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("symlinked parents are resolved as realpath does; a share root and what is below it are not looked at", () => {
    fs.mkdirSync(path.join(dir, "real"));
    fs.symlinkSync("real", path.join(dir, "link"));
    fs.symlinkSync(path.join(dir, "nowhere"), path.join(dir, "dangling"));
    expect(kernelPathOf(path.join(dir, "link/mp"))).toBe(path.join(dir, "real/mp"));
    expect(kernelPathOf(path.join(dir, "link/../real/./mp/"))).toBe(path.join(dir, "real/mp"));
    expect(kernelPathOf(path.join(dir, "dangling/mp"))).toBe(path.join(dir, "dangling/mp"));
    // a "share root" that is a symlink on disk: were it looked at, it would resolve to real
    fs.symlinkSync("real", path.join(dir, "share"));
    const roots = new Map([[path.join(dir, "share"), undefined]]);
    expect(kernelPathOf(path.join(dir, "share"), roots)).toBe(path.join(dir, "share"));
    expect(kernelPathOf(path.join(dir, "link/../share/sub"), roots)).toBe(path.join(dir, "share/sub"));
    expect(kernelPathOf(path.join(dir, "share"))).toBe(path.join(dir, "real"));
  });

  test("observePath describes a share root from its probe, or as blocked when it did not answer", () => {
    fs.mkdirSync(path.join(dir, "mp"), { mode: 0o700 });
    const mp = path.join(dir, "mp");
    const probed = { uid: 1234, gid: 2345, mode: 0o750, nlink: 2, empty: true };
    expect(observePath(mp, new Map([[mp, probed]]))).toMatchObject({
      kind: "directory",
      uid: 1234,
      gid: 2345,
      mode: 0o750,
      empty: true,
    });
    expect(observePath(mp, new Map([[mp, undefined]])).blocked).toContain("does not answer");
    expect(observePath(mp).mode).toBe(0o700);
  });
});
