/**
 * A child process the module never waits on past a deadline.
 *
 * Why: a request to a FUSE connection whose daemon is gone (virtiofsd killed) never completes. The
 * requesting process first waits interruptibly (state S, request_wait_answer); a fatal signal then
 * makes it wait uninterruptibly (state D) until the connection is aborted, and spawnSync, which waits
 * for the child's exit even after killing it, would hang with it. So at the deadline the child is
 * NOT signalled (a kill would only turn its harmless S into D, the state that stalls shutdowns and
 * trips the hung task detector): its pipes are destroyed and it is unref'd, in its own process group
 * (detached), and the module returns without ever reaping it. It ends by itself when the share
 * answers or the connection is aborted (recovery), and with the VM otherwise.
 */
import { spawn } from "child_process";

export interface BoundedResult {
  /** Exit code (128 + signal number for a signal); undefined when the deadline passed first. */
  rc?: number;
  stdout: string;
  stderr: string;
  /** The child did not finish in time and was abandoned. */
  timedOut: boolean;
  /** Set when it could not be started (ENOENT, EACCES). */
  spawnError?: string;
  /** Milliseconds from spawn to exit or abandonment. */
  elapsedMs: number;
  /** The child's process id (an abandoned child may still run). */
  pid?: number;
}

export interface BoundedOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /**
   * A line the child prints once it has started: timeoutMs then counts from it, and the start-up
   * itself gets another timeoutMs. Why: starting a Node.js child takes seconds on a slow (TCG) guest,
   * and that must not read as a share that does not answer. The marker is removed from stdout.
   */
  readyMarker?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function runBounded(file: string, args: string[], opts: BoundedOptions): Promise<BoundedResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let done = false;
    const finish = (r: Omit<BoundedResult, "stdout" | "stderr" | "elapsedMs">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, stdout, stderr, elapsedMs: Date.now() - started, pid: child.pid });
    };
    const child = spawn(file, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: opts.env });
    let ready = opts.readyMarker === undefined;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (!ready && stdout.startsWith(`${opts.readyMarker}\n`)) {
        ready = true;
        stdout = stdout.slice(opts.readyMarker!.length + 1);
        clearTimeout(timer);
        timer = setTimeout(abandon, opts.timeoutMs);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e: NodeJS.ErrnoException) =>
      finish({ timedOut: false, rc: 127, spawnError: e.code ?? e.message }),
    );
    // "close" (exit and both pipes drained), not "exit": the output is complete then.
    child.on("close", (code, signal) =>
      finish({ timedOut: false, rc: code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0) }),
    );
    const abandon = () => {
      child.stdout.destroy();
      child.stderr.destroy();
      child.removeAllListeners();
      child.on("error", () => undefined);
      child.unref();
      finish({ timedOut: true });
    };
    let timer = setTimeout(abandon, opts.timeoutMs);
  });
}
