// Summarises the raw records of the guest benchmarks (written by bench/converge/run.sh and
// bench/io/run.sh): prints a table, writes bench/results/<name>.json and <name>.svg and replaces the
// benchmark's section of bench/results/REPORT.md.
//
//   npx tsx bench/lib/summarize.ts converge RAW.jsonl META.json
//   npx tsx bench/lib/summarize.ts io RAW.jsonl META.json
import * as fs from "fs";
import { summarizeIo } from "./summarize-io";
import {
  type Machine,
  Bar,
  fmt,
  machine,
  machineLine,
  markdownTable,
  median,
  PALETTE,
  Row,
  svgPanels,
  textTable,
  updateReadme,
  updateReport,
  writeJson,
  writeSvg,
} from "./report";

interface Counts {
  module_executions?: number;
  controller_actions?: number;
  skipped?: number;
  changed?: number;
  failed?: number;
  tasks_with_results?: number;
}
interface ConvergeRun {
  idx: number;
  role: "generated" | "baseline";
  n: number;
  phase: "first" | "reconverge";
  rep: number;
  rc: number;
  wall_ms: number;
  ssh_commands: number;
  ssh_transfers: number;
  mounts_after: number;
  fstab_lines_after: number;
  counts: Counts & { tasks?: TaskRec[] };
}
interface TaskRec {
  name: string;
  action: string;
  executions: number;
  changed: number;
  skipped: number;
  seconds: number;
  controller: boolean;
}

export function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

const TARGETS: Record<string, number> = { first: 5, reconverge: 10 };

function summarizeConverge(rawFile: string, metaFile: string): void {
  const runs = readJsonl<ConvergeRun>(rawFile);
  const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as Record<string, unknown>;
  // re-summarising a committed run (meta.machine from its JSON) keeps the machine and time it ran on
  const m = (meta.machine as unknown as Machine | undefined) ?? machine();
  const sizes = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const phases: ConvergeRun["phase"][] = ["first", "reconverge"];
  const agg = (role: string, n: number, phase: string) => {
    const rs = runs.filter((r) => r.role === role && r.n === n && r.phase === phase);
    const wall = rs.map((r) => r.wall_ms / 1000);
    return {
      runs: rs.length,
      wall_s_median: median(wall),
      wall_s_min: Math.min(...wall),
      wall_s_max: Math.max(...wall),
      wall_s_all: wall,
      module_executions: median(rs.map((r) => r.counts.module_executions ?? NaN)),
      controller_actions: median(rs.map((r) => r.counts.controller_actions ?? NaN)),
      skipped: median(rs.map((r) => r.counts.skipped ?? NaN)),
      changed: median(rs.map((r) => r.counts.changed ?? NaN)),
      ssh_commands: median(rs.map((r) => r.ssh_commands)),
      ssh_transfers: median(rs.map((r) => r.ssh_transfers)),
      converged_ok: rs.every((r) => r.rc === 0 && r.mounts_after === n && r.fstab_lines_after === n),
    };
  };
  type Agg = ReturnType<typeof agg>;
  const cells: {
    n: number;
    phase: string;
    generated: Agg;
    baseline: Agg;
    ratio_wall: number;
    ratio_modules: number;
    ratio_ssh: number;
  }[] = [];
  for (const n of sizes) {
    for (const phase of phases) {
      const g = agg("generated", n, phase);
      const b = agg("baseline", n, phase);
      cells.push({
        n,
        phase,
        generated: g,
        baseline: b,
        ratio_wall: b.wall_s_median / g.wall_s_median,
        ratio_modules: b.module_executions / g.module_executions,
        ratio_ssh: b.ssh_commands / g.ssh_commands,
      });
    }
  }
  const range = (a: Agg) => `${fmt(a.wall_s_median)} (${fmt(a.wall_s_min)}–${fmt(a.wall_s_max)})`;
  const head = [
    "N",
    "phase",
    "generated wall s (min–max)",
    "baseline wall s (min–max)",
    "baseline/generated",
    "modules gen",
    "modules base",
    "ratio",
    "ssh cmds gen",
    "ssh cmds base",
    "changed gen/base",
  ];
  const rows: Row[] = cells.map((c) => [
    c.n,
    c.phase === "first" ? "first converge" : "re-converge",
    range(c.generated),
    range(c.baseline),
    `**${fmt(c.ratio_wall, 2)}×**`,
    c.generated.module_executions,
    c.baseline.module_executions,
    `${fmt(c.ratio_modules, 1)}×`,
    c.generated.ssh_commands,
    c.baseline.ssh_commands,
    `${c.generated.changed}/${c.baseline.changed}`,
  ]);
  const targetRows: Row[] = phases.map((phase) => {
    const c = cells.find((x) => x.n === 20 && x.phase === phase);
    const goal = TARGETS[phase];
    if (!c) return [phase, `generated ≤ 1/${goal} of baseline`, "not measured (N=20 not run)", ""];
    const met = c.ratio_wall >= goal;
    return [
      phase === "first" ? "first converge, N=20" : "re-converge, N=20",
      `generated ≤ 1/${goal} of baseline (ratio ≥ ${goal})`,
      `${fmt(c.ratio_wall, 2)}× (generated ${fmt(c.generated.wall_s_median)} s, baseline ${fmt(c.baseline.wall_s_median)} s)`,
      met ? "met" : "**not met**",
    ];
  });

  // where the time goes: per task, largest N, first converge (median over repetitions)
  const bigN = sizes[sizes.length - 1];
  const breakdown: Row[] = [];
  for (const role of ["generated", "baseline"] as const) {
    const rs = runs.filter((r) => r.role === role && r.n === bigN && r.phase === "first");
    const names = [...new Set(rs.flatMap((r) => (r.counts.tasks ?? []).map((t) => t.name)))];
    for (const name of names) {
      const ts = rs.map((r) => (r.counts.tasks ?? []).find((t) => t.name === name)).filter((t): t is TaskRec => !!t);
      const sec = median(ts.map((t) => t.seconds));
      const ex = median(ts.map((t) => t.executions));
      if (ex === 0 && sec < 0.5) continue;
      breakdown.push([role, name.replace(/^[^:]+ : /, ""), ts[0]?.action ?? "", ex, fmt(sec, 1)]);
    }
  }
  const breakdownHead = ["role", `task (N=${bigN}, first converge)`, "action", "executions", "seconds (median)"];

  console.log(`\nconverge (${m.accel}; ${meta.reps} runs per cell, median; wall time of ansible-playbook)\n`);
  console.log(textTable(head, rows));
  console.log("");
  console.log(textTable(["target", "goal", "measured", ""], targetRows));

  const json = { benchmark: "converge", machine: m, meta, cells, runs };
  const jf = writeJson("converge", json);

  const color = (role: string) => (role === "generated" ? PALETTE[0] : PALETTE[1]);
  const panels = phases.map((phase) => ({
    title: phase === "first" ? "First converge (clean guest), wall time" : "Re-converge (nothing to do), wall time",
    unit: "s, median",
    log: false,
    bars: cells
      .filter((c) => c.phase === phase)
      .flatMap((c): Bar[] => [
        { label: `N=${c.n} generated`, value: c.generated.wall_s_median, color: color("generated") },
        {
          label: `N=${c.n} seed baseline`,
          value: c.baseline.wall_s_median,
          color: color("baseline"),
          note: `(${fmt(c.ratio_wall, 1)}×)`,
        },
      ]),
  }));
  panels.push({
    title: "Module executions on the guest, first converge",
    unit: "count",
    log: false,
    bars: cells
      .filter((c) => c.phase === "first")
      .flatMap((c): Bar[] => [
        { label: `N=${c.n} generated`, value: c.generated.module_executions, color: color("generated") },
        { label: `N=${c.n} seed baseline`, value: c.baseline.module_executions, color: color("baseline") },
      ]),
  });
  writeSvg(
    "converge",
    svgPanels(
      "converge: generated virtio_fs_mount role vs seed baseline role",
      `${m.accel} · ${m.nproc} CPUs ${m.cpu_model} · one guest, alternating runs · ${m.date.slice(0, 10)}`,
      panels,
      1,
    ),
  );

  const body = `## converge — generated role vs seed baseline role

${machineLine(m)}

One Debian 12 guest (QEMU started directly, 2 vCPU, 1 GiB), booted in ${meta.boot_s} s. It is offered
**${meta.virtiofsd} real virtio-fs shares**: ${meta.virtiofsd} C virtiofsd processes (cache=auto), each serving its own
host directory, as ${meta.virtiofsd} \`vhost-user-fs-pci\` devices (tags \`bench-s01\`…\`bench-s20\`); a run with N shares
mounts the first N tags, so every mount is a real virtio-fs mount of its own device (one tag cannot be
mounted N times meaningfully, and N devices without daemons would not mount at all).
For each N, ${meta.reps} repetitions alternate the order (generated then baseline, then baseline then generated).
Each repetition: reset the guest (unmount the virtiofs shares, delete their fstab lines and backups,
the mount points and \`/etc/modules-load.d/virtiofs.conf\`, unload \`virtiofs\`; untimed), then the timed
**first converge**, then the timed **re-converge** (same play again). Wall time = the whole
\`ansible-playbook\` process (controller start-up included), connection as \`admin\` with become,
pipelining ${meta.pipelining}, SSH control master already open. Module executions are counted by
\`bench/converge/callback_plugins/bench_count.py\` (one per loop item; controller-only actions such as
\`debug\` excluded); "ssh cmds" counts the remote commands in the \`-vvv\` log, which also covers
modules that action plugins run internally. After every run the guest was checked: N virtiofs mounts
and N fstab lines (${cells.every((c) => c.generated.converged_ok && c.baseline.converged_ok) ? "all runs passed" : "**some runs failed the check**"}).
${meta.ansible}; both plays: \`become: true\`, \`gather_facts: false\`.

Generated: \`ai_how.virtio_fs.virtio_fs_runtime_config\` → role \`virtio_fs_mount\` (package, stat node,
one \`virtio_fs_mount\` call for all shares). Baseline: \`bench/baselines/seed-virtio-fs-mount\`, the seed's
published task list (package, modinfo, modprobe, then per-share loops: stat, mkdir, mount, fstab
lineinfile, stat, debug, permissions).

${markdownTable(head, rows)}

Targets:

${markdownTable(["target", "goal", "measured", ""], targetRows)}

![converge chart](converge.svg)

Where the time goes (per task, N=${bigN}, first converge; a loop task's seconds cover all its items):

${markdownTable(breakdownHead, breakdown)}

Load average on the host: ${meta.load_start} at start, ${meta.load_end} at the end (other engineers' Molecule
guests ran on the same ${m.nproc} cores); the min–max spread shows the noise.
`;
  updateReport("converge", body);
  updateReadme(
    "converge",
    `${m.date.slice(0, 16).replace("T", " ")} UTC · ${m.accel} · ${m.nproc} CPUs · ${meta.reps} alternating repetitions per N
(method and per-task breakdown: [bench/results/REPORT.md](bench/results/REPORT.md)).

${markdownTable(head, rows)}

${markdownTable(["target", "goal", "measured", ""], targetRows)}

![converge chart](bench/results/converge.svg)`,
  );
  console.log(`\nwrote ${jf}, bench/results/converge.svg, bench/results/REPORT.md`);
}

function main(argv: string[]): void {
  const [name, raw, meta] = argv;
  if (name === "converge" && raw && meta) return summarizeConverge(raw, meta);
  if (name === "io" && raw && meta) return summarizeIo(raw, meta);
  console.error("usage: summarize.ts converge|io RAW.jsonl META.json");
  process.exitCode = 2;
}

main(process.argv.slice(2));
