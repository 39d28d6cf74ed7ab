// bench/host's summary: what one more domain costs is the slope between the smallest and the largest
// N, so the fixed per-hypervisor preflight drops out of "module executions per domain".
import { cellsOf, marginal, type HostRun } from "../bench/lib/summarize-host";

function run(role: HostRun["role"], n: number, modules: number, wallS: number, rep = 1): HostRun {
  return {
    idx: 0,
    role,
    n,
    shares: 2,
    phase: "first",
    rep,
    rc: 0,
    wall_ms: wallS * 1000,
    filesystems_after: n * 2,
    shared_memory_after: n,
    running_after: 0,
    host_dirs_after: 0,
    counts: { module_executions: modules, changed: n },
  };
}

describe("bench host summary", () => {
  it("separates the per-domain cost from the fixed preflight", () => {
    const cells = cellsOf([
      run("generated", 1, 8, 5),
      run("generated", 10, 17, 9.5),
      run("generated", 100, 107, 50),
      run("baseline", 1, 4, 2),
      run("baseline", 100, 400, 200),
    ]);
    expect(marginal(cells, "generated", "first")).toEqual({
      modules: 1,
      seconds: 45 / 99,
      fixed_modules: 7,
      fixed_seconds: 5 - 45 / 99,
    });
    expect(marginal(cells, "baseline", "first")).toMatchObject({ modules: 4, fixed_modules: 0 });
    expect(marginal(cells, "generated", "reapply")).toBeUndefined();
  });

  it("takes the median of repetitions and flags a run that left the domains wrong", () => {
    const bad = { ...run("generated", 10, 17, 30, 3), filesystems_after: 19 };
    const [c] = cellsOf([run("generated", 10, 17, 8, 1), run("generated", 10, 17, 10, 2), bad]);
    expect(c).toMatchObject({ runs: 3, wall_s: 10, wall_s_min: 8, wall_s_max: 30, module_executions: 17, ok: false });
  });
});
