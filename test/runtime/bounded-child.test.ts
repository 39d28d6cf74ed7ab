/**
 * runBounded never waits past its deadline: not for a child that does not answer, not for a
 * helper that keeps the child's pipe open after the child was killed (as a process stuck in D keeps
 * its descriptors), and a slow start-up before the ready marker does not count against the answer.
 */
import { runBounded } from "../../src/runtime/bounded-child";

const node = (src: string) => [process.execPath, ["-e", src]] as const;

describe("runBounded", () => {
  test("a child that answers in time: its exit code and output", async () => {
    const [file, args] = node(`process.stdout.write("hi"); process.exit(3)`);
    const r = await runBounded(file, [...args], { timeoutMs: 5000 });
    expect(r).toMatchObject({ timedOut: false, rc: 3, stdout: "hi" });
  });

  test("a child that does not answer, with a helper holding its pipe, is abandoned (not killed) at the deadline", async () => {
    const [file, args] = node(
      `require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 8000)"], { detached: true, stdio: ["ignore", 1, 2] }).unref();
       setTimeout(() => {}, 8000);`,
    );
    const started = Date.now();
    const r = await runBounded(file, [...args], { timeoutMs: 700 });
    expect(r.timedOut).toBe(true);
    expect(r.rc).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
    // not signalled: a signal would turn a child waiting on a dead share (S) into one stuck in D
    expect(() => process.kill(r.pid!, 0)).not.toThrow();
    process.kill(r.pid!, "SIGKILL");
  });

  test("with a ready marker, the answer's deadline counts from it: start-up and answer each get the deadline", async () => {
    // Node's start-up plus 100 ms to get ready, then 800 ms to answer: over 1 s in all, with a 1 s
    // deadline for each phase
    const [file, args] = node(
      `setTimeout(() => { process.stdout.write("ready\\n"); setTimeout(() => process.stdout.write("answer"), 800); }, 100)`,
    );
    const r = await runBounded(file, [...args], { timeoutMs: 1000, readyMarker: "ready" });
    expect(r.elapsedMs).toBeGreaterThan(1000);
    expect(r).toMatchObject({ timedOut: false, rc: 0, stdout: "answer" });
    const [hangFile, hangArgs] = node(`process.stdout.write("ready\\n"); setTimeout(() => {}, 8000)`);
    const started = Date.now();
    const hung = await runBounded(hangFile, [...hangArgs], { timeoutMs: 600, readyMarker: "ready" });
    expect(hung.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test("a program that cannot be started", async () => {
    const r = await runBounded("/nonexistent/program", [], { timeoutMs: 1000 });
    expect(r).toMatchObject({ timedOut: false, rc: 127, spawnError: "ENOENT" });
  });
});
