// Before/after of two io runs (bench/results/<name>.json of bench/io/run.sh) that differ in one product
// setting, and issue 15's goal checked on the after run: the generated default (virtio-fs cache=auto)
// against 9p on every job and against cache=none on sequential reads. Prints the tables and replaces
// the io_before_after section of bench/results/REPORT.md.
//
//   npx tsx bench/lib/compare-io.ts BEFORE_NAME AFTER_NAME "what changed"
import * as fs from "fs";
import * as path from "path";
import { fmt, markdownTable, ratio, Row, textTable, updateReport } from "./report";

interface Metric {
  key: string;
  title: string;
  unit: string;
  lowerIsBetter: boolean;
}
interface IoResult {
  machine: { date: string; loadavg_at_summary: string };
  meta: Record<string, string | number>;
  metrics: Metric[];
  table: Record<string, Record<string, number>>;
}

const DEFAULT = "vfs-auto";

function load(name: string): IoResult {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "results", `${name}.json`), "utf8")) as IoResult;
}

const x = (r: number) => (Number.isFinite(r) ? `${fmt(r, 2)}×` : "n/a");

function main(): void {
  const [beforeName, afterName, change] = process.argv.slice(2);
  const before = load(beforeName);
  const after = load(afterName);
  const metrics = after.metrics;
  const targets = Object.keys(after.table).filter((t) => before.table[t]);

  const ba: Row[] = targets.map((t) => [
    t,
    ...metrics.map((m) => x(ratio(m.lowerIsBetter, after.table[t][m.key], before.table[t][m.key]))),
  ]);
  const baHead = ["target: after / before", ...metrics.map((m) => m.title)];

  const goalRows: Row[] = [];
  for (const [label, run] of [
    ["before", before],
    ["after", after],
  ] as const) {
    const auto = run.table[DEFAULT];
    goalRows.push([
      `${label}: ${DEFAULT} / 9p`,
      ...metrics.map((m) => x(ratio(m.lowerIsBetter, auto?.[m.key], run.table["9p"]?.[m.key]))),
    ]);
    goalRows.push([
      `${label}: ${DEFAULT} / vfs-none`,
      ...metrics.map((m) => x(ratio(m.lowerIsBetter, auto?.[m.key], run.table["vfs-none"]?.[m.key]))),
    ]);
  }
  const goalHead = ["ratio (≥ 1.00× meets the goal)", ...metrics.map((m) => m.title)];

  const native = (run: IoResult, t: string) => {
    const n = run.table["native"]?.seq_read;
    const v = run.table[t]?.seq_read;
    return n && v ? `${fmt((100 * v) / n, 1)} %` : "n/a";
  };
  const nativeRows: Row[] = ["vfs-auto", "vfs-none", "9p", "tmpfs", "guest-disk"]
    .filter((t) => after.table[t] || before.table[t])
    .map((t) => [t, native(before, t), native(after, t)]);

  process.stdout.write(
    `${textTable(baHead, ba)}\n\n${textTable(goalHead, goalRows)}\n\n${textTable(["seq read / host native", "before", "after"], nativeRows)}\n`,
  );
  const when = (r: IoResult) =>
    `${r.machine.date.slice(0, 16).replace("T", " ")} UTC, load ${r.meta.load_start} → ${r.meta.load_end}`;
  updateReport(
    "io_before_after",
    `## io_before_after — ${change} (issue 15)

Both runs **${after.meta.accel}**, same sizes (${after.meta.size_mib} MiB files, ${after.meta.runtime_s} s random jobs,
${after.meta.files} metadata files), one after the other: before = section \`${beforeName}\` (guest CPU
\`${before.meta.guest_cpu}\`, copy flags ${before.meta.guest_cpu_flags}; ${when(before)}), after = section
\`${afterName}\` (guest CPU \`${after.meta.guest_cpu}\`, copy flags ${after.meta.guest_cpu_flags}; ${when(after)}).
Medians of ${after.meta.rounds} rounds each; higher is better, latency inverted. Two runs at different times on
a shared host: the \`native\` row (the host alone, no guest) shows how far the host itself drifted between
them, and each run's section gives its round-to-round spread; a ratio inside those is no effect.

Each target, after / before:

${markdownTable(baHead, ba)}

Issue 15's goal on each run: the generated default (\`${DEFAULT}\`) against 9p on every job and against
\`cache=none\` on 1 MiB sequential read:

${markdownTable(goalHead, goalRows)}

Sequential 1 MiB read as a share of host native in the same run:

${markdownTable(["target", "before", "after"], nativeRows)}
`,
  );
}

if (require.main === module) main();
