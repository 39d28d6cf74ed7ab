// Summarises the raw records of bench/host/run.sh: prints a table, writes bench/results/host.json and
// host.svg, and replaces the host section of bench/results/REPORT.md and the README's bench:host region.
//
//   npx tsx bench/lib/summarize-host.ts RAW.jsonl META.json
import * as fs from "fs";
import {
  type Machine,
  Bar,
  fmt,
  machine,
  machineLine,
  markdownTable,
  median,
  PALETTE,
  Panel,
  Row,
  svgPanels,
  textTable,
  updateReadme,
  updateReport,
  writeJson,
  writeSvg,
} from "./report";

export interface HostRun {
  idx: number;
  role: "generated" | "baseline";
  n: number;
  shares: number;
  phase: "first" | "reapply";
  rep: number;
  rc: number;
  wall_ms: number;
  filesystems_after: number;
  shared_memory_after: number;
  running_after: number;
  host_dirs_after: number;
  counts: {
    module_executions?: number;
    controller_actions?: number;
    changed?: number;
    tasks?: { name: string; action: string; executions: number; seconds: number }[];
  };
}

export interface Cell {
  role: HostRun["role"];
  n: number;
  phase: HostRun["phase"];
  runs: number;
  wall_s: number;
  wall_s_min: number;
  wall_s_max: number;
  module_executions: number;
  changed: number;
  ok: boolean;
}

/** Wall time goal of the issue: the host role on 100 domains in under 2 minutes. */
export const WALL_GOAL_S = 120;
export const WALL_GOAL_N = 100;

export function cellsOf(runs: HostRun[]): Cell[] {
  const keys = new Map<string, HostRun[]>();
  for (const r of runs) {
    const k = `${r.role}|${r.n}|${r.phase}`;
    keys.set(k, [...(keys.get(k) ?? []), r]);
  }
  return [...keys.values()].map((rs) => {
    const wall = rs.map((r) => r.wall_ms / 1000);
    const { role, n, phase, shares } = rs[0];
    return {
      role,
      n,
      phase,
      runs: rs.length,
      wall_s: median(wall),
      wall_s_min: Math.min(...wall),
      wall_s_max: Math.max(...wall),
      module_executions: median(rs.map((r) => r.counts.module_executions ?? NaN)),
      changed: median(rs.map((r) => r.counts.changed ?? NaN)),
      ok: rs.every((r) => r.rc === 0 && r.filesystems_after === n * shares && r.running_after === 0),
    };
  });
}

/**
 * What one more domain costs: the slope between the smallest and the largest N of a role and phase
 * (module executions and seconds), so the fixed per-hypervisor work (preflight) drops out.
 */
export function marginal(
  cells: Cell[],
  role: HostRun["role"],
  phase: HostRun["phase"],
): { modules: number; seconds: number; fixed_modules: number; fixed_seconds: number } | undefined {
  const cs = cells.filter((c) => c.role === role && c.phase === phase).sort((a, b) => a.n - b.n);
  if (cs.length < 2) return undefined;
  const lo = cs[0];
  const hi = cs[cs.length - 1];
  const dn = hi.n - lo.n;
  const modules = (hi.module_executions - lo.module_executions) / dn;
  const seconds = (hi.wall_s - lo.wall_s) / dn;
  return {
    modules,
    seconds,
    fixed_modules: lo.module_executions - modules * lo.n,
    fixed_seconds: lo.wall_s - seconds * lo.n,
  };
}

const PHASE_LABEL: Record<HostRun["phase"], string> = {
  first: "first apply",
  reapply: "re-apply (nothing to do)",
};

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

function summarizeHost(rawFile: string, metaFile: string): void {
  const runs = readJsonl<HostRun>(rawFile);
  const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as Record<string, unknown>;
  const m = (meta.machine as Machine | undefined) ?? machine();
  const cells = cellsOf(runs);
  const sizes = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const phases: HostRun["phase"][] = ["first", "reapply"];
  const cell = (role: HostRun["role"], n: number, phase: HostRun["phase"]) =>
    cells.find((c) => c.role === role && c.n === n && c.phase === phase);
  const range = (c?: Cell) => (c ? `${fmt(c.wall_s)} (${fmt(c.wall_s_min)}–${fmt(c.wall_s_max)})` : "n/a");

  const head = [
    "N",
    "phase",
    "generated wall s (min–max)",
    "baseline wall s (min–max)",
    "baseline/generated",
    "modules gen",
    "modules base",
    "modules per domain gen/base",
    "s per domain gen/base",
    "changed gen/base",
  ];
  const rows: Row[] = [];
  for (const n of sizes)
    for (const phase of phases) {
      const g = cell("generated", n, phase);
      const b = cell("baseline", n, phase);
      if (!g || !b) continue;
      rows.push([
        n,
        PHASE_LABEL[phase],
        range(g),
        range(b),
        `**${fmt(b.wall_s / g.wall_s, 2)}×**`,
        g.module_executions,
        b.module_executions,
        `${fmt(g.module_executions / n, 2)} / ${fmt(b.module_executions / n, 2)}`,
        `${fmt(g.wall_s / n, 2)} / ${fmt(b.wall_s / n, 2)}`,
        `${g.changed}/${b.changed}`,
      ]);
    }

  const slopes = {
    generated: { first: marginal(cells, "generated", "first"), reapply: marginal(cells, "generated", "reapply") },
    baseline: { first: marginal(cells, "baseline", "first"), reapply: marginal(cells, "baseline", "reapply") },
  };
  const slopeRows: Row[] = (["generated", "baseline"] as const).flatMap((role) =>
    phases.map((phase): Row => {
      const s = slopes[role][phase];
      return s
        ? [
            role,
            PHASE_LABEL[phase],
            fmt(s.modules, 2),
            fmt(s.seconds, 2),
            fmt(s.fixed_modules, 1),
            fmt(s.fixed_seconds, 1),
          ]
        : [role, PHASE_LABEL[phase], "n/a", "n/a", "n/a", "n/a"];
    }),
  );
  const slopeHead = [
    "role",
    "phase",
    "module executions per extra domain",
    "seconds per extra domain",
    "fixed module executions (per hypervisor)",
    "fixed seconds",
  ];

  const g100 = cell("generated", WALL_GOAL_N, "first");
  const gSlope = slopes.generated.first;
  const targetRows: Row[] = [
    [
      "module executions per domain",
      "1",
      gSlope ? `${fmt(gSlope.modules, 2)} (baseline ${fmt(slopes.baseline.first?.modules ?? NaN, 2)})` : "n/a",
      gSlope && Math.abs(gSlope.modules - 1) < 0.01 ? "met" : "**not met**",
    ],
    [
      `host role, ${WALL_GOAL_N} domains, first apply`,
      `< ${WALL_GOAL_S} s`,
      g100 ? `${fmt(g100.wall_s)} s` : `not measured (N=${WALL_GOAL_N} not run)`,
      g100 ? (g100.wall_s < WALL_GOAL_S ? "met" : "**not met**") : "",
    ],
  ];

  // where the generated role's time goes at the largest N (first apply, median over repetitions)
  const bigN = sizes[sizes.length - 1];
  const breakdown: Row[] = [];
  for (const role of ["generated", "baseline"] as const) {
    const rs = runs.filter((r) => r.role === role && r.n === bigN && r.phase === "first");
    const names = [...new Set(rs.flatMap((r) => (r.counts.tasks ?? []).map((t) => t.name)))];
    for (const name of names) {
      const ts = rs.map((r) => (r.counts.tasks ?? []).find((t) => t.name === name)).filter((t) => t !== undefined);
      const ex = median(ts.map((t) => t.executions));
      const sec = median(ts.map((t) => t.seconds));
      if (ex === 0 && sec < 0.5) continue;
      breakdown.push([role, name.replace(/^[^:]+ : /, ""), ts[0]?.action ?? "", ex, fmt(sec, 1)]);
    }
  }

  console.log(`\nhost (${m.accel}; ${meta.reps} runs per cell, median; wall time of ansible-playbook)\n`);
  console.log(textTable(head, rows));
  console.log("");
  console.log(textTable(slopeHead, slopeRows));
  console.log("");
  console.log(textTable(["target", "goal", "measured", ""], targetRows));

  const jf = writeJson("host", { benchmark: "host", machine: m, meta, cells, marginal: slopes, runs });

  const color = (role: string) => (role === "generated" ? PALETTE[0] : PALETTE[1]);
  const panels: Panel[] = phases.map((phase) => ({
    title: `${phase === "first" ? "First apply (domains without shares)" : "Re-apply (nothing to do)"}, wall time`,
    unit: "s, median",
    log: false,
    bars: sizes.flatMap((n): Bar[] => {
      const g = cell("generated", n, phase);
      const b = cell("baseline", n, phase);
      if (!g || !b) return [];
      return [
        { label: `N=${n} generated`, value: g.wall_s, color: color("generated") },
        {
          label: `N=${n} per-share baseline`,
          value: b.wall_s,
          color: color("baseline"),
          note: `(${fmt(b.wall_s / g.wall_s, 1)}×)`,
        },
      ];
    }),
  }));
  panels.push({
    title: "Module executions, first apply",
    unit: "count",
    log: false,
    bars: sizes.flatMap((n): Bar[] => {
      const g = cell("generated", n, "first");
      const b = cell("baseline", n, "first");
      if (!g || !b) return [];
      return [
        { label: `N=${n} generated`, value: g.module_executions, color: color("generated") },
        { label: `N=${n} per-share baseline`, value: b.module_executions, color: color("baseline") },
      ];
    }),
  });
  const shares = runs[0]?.shares ?? 0;
  const sf = writeSvg(
    "host",
    svgPanels(
      "bench host: host role on N defined libvirt domains",
      `${shares} shares per domain · ${m.accel} · ${m.nproc} CPUs · ${m.date.slice(0, 16).replace("T", " ")} UTC · ${meta.reps} runs per bar (median)`,
      panels,
    ),
  );

  const allOk = cells.every((c) => c.ok);
  const body = `## host — the host role on N libvirt domains

${machineLine(m)}

libvirt ${meta.libvirt} (this machine's libvirtd, \`qemu:///system\`), domain type \`${meta.domain_type}\`, ${meta.ansible},
pipelining ${meta.pipelining}; ${meta.reps} runs per cell (median, min–max), the order of the two plays alternating.
N domains (1 vCPU, 512 MiB) are **defined, never started**, each with ${shares} shares (one of its own${shares >= 2 ? ", one host directory common to all" : ""}):
rendered by \`vfsgen render\` from the benchmark's cluster configuration and stripped of their
\`<filesystem>\` devices (their shared memory kept). First apply: every device is added and every host
directory created; re-apply: the same play again, nothing to do. After every run the domains were read
back: N × ${shares} virtio-fs devices, none running, every host directory present (${allOk ? "all runs passed" : "**some runs did not**"}).

Generated: \`vfsgen inventory\` of the configuration, then \`ansible-playbook --limit hypervisors
ai_how.virtio_fs.virtio_fs_cluster_config\` (the host role on \`localhost\`, connection local,
\`virtio_fs_host_create_dirs: true\`): preflight once per hypervisor, then one \`virtio_fs_domain\`
execution per domain, which also checks or creates the domain's host directories. Baseline
(\`bench/host/baseline.yml\`), the seed's per-share style from the same inventory: per share a
\`file\` task (host directory) and a \`shell\` task (\`virsh dumpxml\` + \`virsh attach-device --config\`).
Module executions are counted by \`bench/converge/callback_plugins/bench_count.py\` (one per loop item).

${markdownTable(head, rows)}

What one more domain costs (slope between N=${sizes[0]} and N=${bigN}; the intercept is the fixed
per-hypervisor work):

${markdownTable(slopeHead, slopeRows)}

Targets:

${markdownTable(["target", "goal", "measured", ""], targetRows)}

![host chart](host.svg)

Where the time goes (per task, N=${bigN}, first apply; a loop task's seconds cover all its items):

${markdownTable(["role", `task (N=${bigN}, first apply)`, "action", "executions", "seconds (median)"], breakdown)}

Load average on the host: ${meta.load_start} at start, ${meta.load_end} at the end.
`;
  const rf = updateReport("host", body);
  updateReadme(
    "host",
    `${markdownTable(head, rows)}\n\nOne more domain costs the generated role ${fmt(gSlope?.modules ?? NaN, 2)} module executions and ${fmt(gSlope?.seconds ?? NaN, 2)} s (baseline: ${fmt(slopes.baseline.first?.modules ?? NaN, 2)} and ${fmt(slopes.baseline.first?.seconds ?? NaN, 2)} s); details in [bench/results/REPORT.md](bench/results/REPORT.md#host--the-host-role-on-n-libvirt-domains).\n\n![host chart](bench/results/host.svg)`,
  );
  console.log(`\nwrote ${jf}, ${sf}, ${rf}`);
}

if (require.main === module) {
  const [raw, meta] = process.argv.slice(2);
  if (raw && meta) summarizeHost(raw, meta);
  else {
    console.error("usage: summarize-host.ts RAW.jsonl META.json");
    process.exitCode = 2;
  }
}
