import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { binDir } from "./env-hooks";
import { runBounded } from "./bounded-child";

/** Outcome of one external program run; never throws. */
export interface ExecResult {
  argv: string[];
  rc: number;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (not found, not executable). */
  spawnError?: string;
}

/** The sbin directories are missing from PATH for non-login shells on some guests. */
const EXTRA_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function searchPath(): string {
  const parts = (process.env.PATH ?? "").split(":").filter((p) => p !== "");
  for (const p of EXTRA_PATH) if (!parts.includes(p)) parts.push(p);
  return parts.join(":");
}

/** Where a program is run from: VIRTIO_FS_BIN_DIR/name when the hook is set, else the bare name. */
function programPath(name: string): string {
  const dir = binDir();
  return dir ? path.join(dir, name) : name;
}

/** Runs a program (looked up as described in env-hooks) with arguments, no shell. */
export function run(program: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult {
  const file = programPath(program);
  const argv = [program, ...args];
  if (binDir() && !fs.existsSync(file)) {
    return { argv, rc: 127, stdout: "", stderr: `${program}: not found in VIRTIO_FS_BIN_DIR`, spawnError: "ENOENT" };
  }
  const r = spawnSync(file, args, {
    input: opts.input,
    encoding: "utf8",
    env: { ...process.env, PATH: searchPath(), LC_ALL: "C", LANG: "C" },
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code ?? r.error.message;
    return { argv, rc: 127, stdout: r.stdout ?? "", stderr: r.stderr ?? "", spawnError: String(code) };
  }
  return { argv, rc: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Runs a program like run(), but in a child the module abandons at the deadline (bounded-child.ts):
 * for everything that touches a share (mount, umount), which can block forever on a dead virtiofsd.
 * A run past the deadline has rc 124 (like timeout(1)) and timedOut set.
 */
export async function runWithDeadline(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<ExecResult & { timedOut: boolean }> {
  const file = programPath(program);
  const argv = [program, ...args];
  if (binDir() && !fs.existsSync(file)) {
    return {
      argv,
      rc: 127,
      stdout: "",
      stderr: `${program}: not found in VIRTIO_FS_BIN_DIR`,
      spawnError: "ENOENT",
      timedOut: false,
    };
  }
  const r = await runBounded(file, args, {
    timeoutMs,
    env: { ...process.env, PATH: searchPath(), LC_ALL: "C", LANG: "C" },
  });
  if (r.timedOut)
    return {
      argv,
      rc: 124,
      stdout: r.stdout,
      stderr: `${r.stderr}${r.stderr ? "\n" : ""}no answer within ${timeoutMs / 1000}s; abandoned`,
      timedOut: true,
    };
  return { argv, rc: r.rc ?? 128, stdout: r.stdout, stderr: r.stderr, spawnError: r.spawnError, timedOut: false };
}

/** One-line description of a failed run for error messages. */
export function describeFailure(r: ExecResult): string {
  if (r.spawnError) return `${r.argv[0]} could not be run (${r.spawnError})`;
  const out = (r.stderr.trim() || r.stdout.trim())
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join(" / ");
  return `\`${r.argv.join(" ")}\` exited ${r.rc}${out ? `: ${out}` : ""}`;
}
