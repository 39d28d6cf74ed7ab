// Summary of bench/io: one row per target (share type / cache mode / variant), one column per job.
import * as fs from "fs";
import {
  type Machine,
  Bar,
  fmt,
  machine,
  machineLine,
  markdownTable,
  median,
  Panel,
  PALETTE,
  Row,
  svgPanels,
  textTable,
  updateReadme,
  updateReport,
  writeJson,
  writeSvg,
} from "./report";

interface IoRec {
  target: string;
  job: string;
  kind?: string;
  cache?: string;
  thread_pool?: string;
  queue_size?: string;
  fs?: string;
  error?: string;
  round?: number;
  bw_mib_s?: number;
  iops?: number;
  clat_mean_us?: number;
  clat_p50_us?: number;
  clat_p99_us?: number;
  files?: number;
  create_per_s?: number;
  stat_per_s?: number;
  delete_per_s?: number;
}

const LABELS: Record<string, string> = {
  "guest-disk": "guest disk (virtio-blk)",
  "vfs-auto": "virtio-fs cache=auto",
  "vfs-always": "virtio-fs cache=always",
  "vfs-none": "virtio-fs cache=none",
  "vfs-auto-pool0": "virtio-fs auto, thread pool 0",
  "vfs-auto-q128": "virtio-fs auto, queue 128",
  "9p": "9p (msize 256 KiB)",
  native: "host native",
};

interface Metric {
  key: string;
  title: string;
  unit: string;
  job: string;
  get: (r: IoRec) => number | undefined;
  lowerIsBetter?: boolean;
}
const METRICS: Metric[] = [
  { key: "seq_write", title: "seq write 1 MiB", unit: "MiB/s", job: "seq-write", get: (r) => r.bw_mib_s },
  { key: "seq_read", title: "seq read 1 MiB", unit: "MiB/s", job: "seq-read", get: (r) => r.bw_mib_s },
  { key: "rand_read", title: "rand read 4 KiB", unit: "IOPS", job: "rand-read", get: (r) => r.iops },
  { key: "rand_read_4", title: "rand read 4 KiB, 4 jobs", unit: "IOPS", job: "rand-read-4jobs", get: (r) => r.iops },
  { key: "rand_write", title: "rand write 4 KiB", unit: "IOPS", job: "rand-write", get: (r) => r.iops },
  {
    key: "lat_mean",
    title: "4 KiB read latency, mean",
    unit: "µs",
    job: "latency",
    get: (r) => r.clat_mean_us,
    lowerIsBetter: true,
  },
  {
    key: "lat_p99",
    title: "4 KiB read latency, p99",
    unit: "µs",
    job: "latency",
    get: (r) => r.clat_p99_us,
    lowerIsBetter: true,
  },
  { key: "small", title: "small files 4 KiB", unit: "files/s", job: "small-files", get: (r) => r.iops },
  { key: "create", title: "create", unit: "files/s", job: "metadata", get: (r) => r.create_per_s },
  { key: "stat", title: "stat", unit: "files/s", job: "metadata", get: (r) => r.stat_per_s },
  { key: "delete", title: "delete", unit: "files/s", job: "metadata", get: (r) => r.delete_per_s },
];

function geomean(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  return v.length ? Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length) : NaN;
}

export function summarizeIo(rawFile: string, metaFile: string): void {
  const recs = fs
    .readFileSync(rawFile, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as IoRec);
  const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as Record<string, string | number>;
  // re-summarising a committed run (meta.machine from its JSON) keeps the machine and time it ran on
  const m = (meta.machine as unknown as Machine | undefined) ?? machine();
  const targets = [...new Set(recs.map((r) => r.target))];
  const samples = (t: string, mt: Metric): number[] =>
    recs
      .filter((x) => x.target === t && x.job === mt.job && !x.error)
      .map((r) => mt.get(r))
      .filter((v): v is number => typeof v === "number");
  // the median over rounds; the spread is (max - min) / median, how much one target moved between rounds
  const value = (t: string, mt: Metric): number => {
    const v = samples(t, mt);
    return v.length ? median(v) : NaN;
  };
  const spreadOf = (t: string, mt: Metric): number => {
    const v = samples(t, mt);
    return v.length > 1 ? (Math.max(...v) - Math.min(...v)) / median(v) : NaN;
  };
  const rounds = Number(meta.rounds ?? 1);
  const errors = recs.filter((r) => r.error);
  const table: Record<string, Record<string, number>> = {};
  for (const t of targets) table[t] = Object.fromEntries(METRICS.map((mt) => [mt.key, value(t, mt)]));

  const cfg = (t: string) => recs.find((r) => r.target === t) ?? ({} as IoRec);
  const head = ["target", "cache", "pool", "queue", ...METRICS.map((mt) => `${mt.title} (${mt.unit})`)];
  const rows: Row[] = targets.map((t) => [
    LABELS[t] ?? t,
    cfg(t).cache ?? "",
    cfg(t).thread_pool ?? "",
    cfg(t).queue_size ?? "",
    ...METRICS.map((mt) => fmt(table[t][mt.key], table[t][mt.key] < 100 ? 1 : 0)),
  ]);

  // relative to virtio-fs cache=auto (higher = better, latency inverted)
  const rel = (t: string, mt: Metric): number => {
    const a = table["vfs-auto"]?.[mt.key],
      b = table[t]?.[mt.key];
    return mt.lowerIsBetter ? a / b : b / a;
  };
  const vfsTargets = targets.filter((t) => t !== "vfs-auto");
  // a target's noise: the median over metrics of its round-to-round spread
  const noise = (t: string): number => {
    const v = METRICS.map((mt) => spreadOf(t, mt)).filter((x) => Number.isFinite(x));
    return v.length ? median(v) : NaN;
  };
  const relHead = [
    "target vs virtio-fs cache=auto",
    ...METRICS.map((mt) => mt.title),
    "geomean",
    "round-to-round spread (median)",
  ];
  const relRows: Row[] = vfsTargets.map((t) => {
    const rs = METRICS.map((mt) => rel(t, mt));
    const n = noise(t);
    return [
      LABELS[t] ?? t,
      ...rs.map((x) => `${fmt(x, 2)}×`),
      `**${fmt(geomean(rs), 2)}×**`,
      Number.isFinite(n) ? `${fmt(n * 100, 0)} %` : "n/a",
    ];
  });
  // Differences smaller than this are not read as an effect: the larger of 10 % and the noise
  // measured on the reference target and on the target compared with it.
  const threshold = (t: string) => Math.max(0.1, ...[noise("vfs-auto"), noise(t)].filter((x) => Number.isFinite(x)));
  const g = (t: string) => geomean(METRICS.map((mt) => rel(t, mt)));
  const gMeta = (t: string) =>
    geomean(
      ["create", "stat", "delete"].map((k) =>
        rel(
          t,
          METRICS.find((x) => x.key === k)!,
        ),
      ),
    );
  const gData = (t: string) =>
    geomean(METRICS.filter((x) => !["create", "stat", "delete"].includes(x.key)).map((mt) => rel(t, mt)));

  // data-driven suggestions (the semantics that numbers cannot show are stated with them)
  const sugg: string[] = [];
  if (table["vfs-auto"]) {
    const al = g("vfs-always"),
      no = g("vfs-none");
    sugg.push(
      `**cache mode**: against \`auto\`, \`always\` scores ${fmt(al, 2)}× overall (data ${fmt(gData("vfs-always"), 2)}×, metadata ${fmt(gMeta("vfs-always"), 2)}×), ` +
        `\`none\` ${fmt(no, 2)}× (data ${fmt(gData("vfs-none"), 2)}×, metadata ${fmt(gMeta("vfs-none"), 2)}×). ` +
        (al > 1 + threshold("vfs-always")
          ? "`always` is measurably faster here, but it trusts the guest's caches indefinitely: only for shares the host does not change underneath the guest (read-mostly datasets, container images). "
          : "`always` buys no clear speed-up over `auto` here and gives up coherence with host-side changes. ") +
        "`none` opens every file with direct I/O (no guest page cache; guest kernels before 6.6 also refuse MAP_SHARED mmap of such files); it helps large streaming I/O but " +
        (gMeta("vfs-none") < 0.9
          ? "costs metadata speed (every lookup goes to virtiofsd). "
          : "is not a general default. ") +
        "Suggested default: **auto** (virtiofsd's own default: emit nothing); `always` per share for read-only, host-static data.",
    );
  }
  if (table["vfs-auto-pool0"]) {
    const p0 = g("vfs-auto-pool0"),
      p0par = rel(
        "vfs-auto-pool0",
        METRICS.find((x) => x.key === "rand_read_4")!,
      );
    sugg.push(
      `**thread pool**: \`--thread-pool-size=0\` (requests handled on the virtqueue thread) scores ${fmt(p0, 2)}× of the default pool (64) overall and ` +
        `${fmt(p0par, 2)}× on 4 parallel random readers. ` +
        (p0 > 1 + threshold("vfs-auto-pool0")
          ? "Without a pool is faster here (no hand-off between threads while the host data is in RAM), as the virtio-fs project found on fast storage. " +
            "Suggested default: **0** for shares on local, fast host storage (the Rust virtiofsd's own default); keep a pool only for high-latency host storage (network filesystems)."
          : p0 < 1 - threshold("vfs-auto-pool0")
            ? "The pool helps here. Suggested default: leave `thread_pool_size` unset (virtiofsd's default pool)."
            : "No difference beyond the noise of this shared host. Suggested default: leave `thread_pool_size` unset (emit nothing: the daemon's own default; 0 is the Rust virtiofsd's default anyway)."),
    );
  }
  if (table["vfs-auto-q128"]) {
    const q = g("vfs-auto-q128");
    sugg.push(
      `**queue size**: queue-size 128 scores ${fmt(q, 2)}× of 1024 overall. These jobs keep at most 4 requests in flight ` +
        "(psync, queue depth 1, 4 readers), far below either size, so the queue cannot be what limits them" +
        (Math.abs(q - 1) < threshold("vfs-auto-q128")
          ? ` (and no difference beyond the noise, ±${fmt(threshold("vfs-auto-q128") * 100, 0)} %, shows). `
          : "; the difference is the noise of the shared host. ") +
        "A larger queue only costs descriptor memory. Suggested default: **1024** (the seed's and libvirt's usual value), " +
        "which leaves room for deeply parallel guest I/O.",
    );
  }

  console.log(
    `\nio (${meta.accel}; guest ${meta.guest_kernel}; fio psync QD1; ${meta.size_mib} MiB files; ${meta.runtime_s} s random jobs)\n`,
  );
  console.log(textTable(head, rows));
  console.log("");
  console.log(textTable(relHead, relRows));
  if (errors.length) console.log(`\nerrors: ${errors.map((e) => `${e.target}/${e.job}: ${e.error}`).join("; ")}`);

  const jf = writeJson("io", {
    benchmark: "io",
    machine: m,
    meta,
    metrics: METRICS.map(({ key, title, unit, job, lowerIsBetter }) => ({
      key,
      title,
      unit,
      job,
      lowerIsBetter: !!lowerIsBetter,
    })),
    table,
    records: recs,
  });

  const color = (t: string) => PALETTE[Math.max(0, targets.indexOf(t)) % PALETTE.length];
  const panels: Panel[] = METRICS.map((mt) => ({
    title: mt.title + (mt.lowerIsBetter ? " (lower is better)" : ""),
    unit: mt.unit,
    bars: targets.map((t): Bar => ({ label: LABELS[t] ?? t, value: table[t][mt.key], color: color(t) })),
  }));
  writeSvg(
    "io",
    svgPanels(
      `io: virtio-fs cache modes vs 9p, guest disk and host (${meta.accel})`,
      `${m.nproc} CPUs ${m.cpu_model} · guest 2 vCPU 1 GiB · fio psync QD1, ${meta.size_mib} MiB files · metadata ${meta.files} files · ${m.date.slice(0, 10)}`,
      panels,
      2,
    ),
  );

  const body = `## io — virtio-fs cache modes, 9p, guest disk, host

${machineLine(m)}

**${meta.accel}**${String(meta.accel).includes("TCG") ? ": the guest CPU is emulated, so every guest figure is bound by emulation; compare rows within this run only, never with real hardware" : ""}.
One guest (QEMU direct, 2 vCPU, 1 GiB, kernel ${meta.guest_kernel}, ${meta.guest_fio}; booted in ${meta.boot_s} s), one run of
${rounds} round${rounds === 1 ? "" : "s"} (every target once per round; even rounds in reverse order, so drift of the shared host hits all
targets alike); tables show the median over rounds. All shares
serve **the same host directory** (${meta.host_fs}); each target works in its own subdirectory. One C virtiofsd per
virtio-fs target, each its own tag: cache auto, always, none (thread pool 64 = virtiofsd default,
queue-size 1024), plus two variants of auto: \`--thread-pool-size=0\` and queue-size 128. 9p:
\`${meta.p9_opts}\`. The same jobs (\`bench/io/io-jobs.py\`, modelled on the seed's performance suite) ran on the
guest's own disk and natively on the host directory (${meta.host_fio}).

fio psync (buffered, queue depth 1 per job): sequential 1 MiB write (fsync at the end) and read of a ${meta.size_mib} MiB
file; random 4 KiB read and write (fsync at the end) on a ${meta.size_mib} MiB file for ${meta.runtime_s} s; 4 parallel random
readers; read latency for ${Math.max(2, Number(meta.runtime_s) - 2)} s; 256 small files of 4 KiB. Metadata: create (with 1 KiB of data),
stat, delete of ${meta.files} files in one directory (Python loop; the two variants: ${meta.variant_files} files, rates are per
second). Caches: the guest's page/dentry/inode caches are dropped before every read job; the host's page
cache is never dropped (it is shared with other users), and native fio runs with \`--invalidate=0\`, so
every target reads data the host holds in RAM: the figures compare the transport, not the host disk.
Buffered random reads may partly hit the guest page cache with cache=auto/always and on the guest disk.

${markdownTable(head, rows)}

Relative to virtio-fs cache=auto (higher is better; latency inverted). The last column is how much the
target itself moved between rounds (median over the jobs of (max − min) / median): a ratio closer to 1
than that spread (or than 10 %, whichever is larger) is read as no effect.

${markdownTable(relHead, relRows)}

${errors.length ? `Errors: ${errors.map((e) => `\`${e.target}/${e.job}\`: ${e.error?.slice(0, 200)}`).join("; ")}\n` : ""}
What the numbers suggest for the generated defaults:

${sugg.map((s) => `- ${s}`).join("\n")}

![io chart](io.svg)

Load average on the host: ${meta.load_start} at start, ${meta.load_end} at the end (anything else running on the
${m.nproc} cores shows up as round-to-round spread).
`;
  updateReport("io", body);
  updateReadme(
    "io",
    `${m.date.slice(0, 16).replace("T", " ")} UTC · **${meta.accel}** · ${m.nproc} CPUs · one guest, ${rounds} round${rounds === 1 ? "" : "s"}, median
(absolute figures and method: [bench/results/REPORT.md](bench/results/REPORT.md)).
Relative to virtio-fs cache=auto (higher is better; latency inverted):

${markdownTable(relHead, relRows)}

${sugg.map((s) => `- ${s}`).join("\n")}

![io chart](bench/results/io.svg)`,
  );
  console.log(`\n${sugg.join("\n\n")}\n\nwrote ${jf}, bench/results/io.svg, bench/results/REPORT.md`);
}
