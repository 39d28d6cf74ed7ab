// Summary of bench/io: one row per target (share type / cache mode / variant), one column per job.
import * as fs from "fs";
import {
  type Machine,
  Bar,
  fmt,
  ratio,
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
  // probe-read / probe-write records (bench/io/run.sh probe pass)
  mib?: number;
  mib_s?: number;
  wall_s?: number;
  qemu_vcpu_s?: number;
  qemu_other_s?: number;
  virtiofsd_s?: number;
  guest_user_s?: number;
  guest_sys_s?: number;
  read_ahead_kb?: number;
  vda_read_ios?: number;
  vda_read_kib?: number;
  vda_write_ios?: number;
  vda_write_kib?: number;
  requests?: { requests?: number; kib?: Record<string, number> };
}

const LABELS: Record<string, string> = {
  "guest-disk": "guest disk (virtio-blk)",
  "vfs-auto": "virtio-fs cache=auto",
  "vfs-always": "virtio-fs cache=always",
  "vfs-none": "virtio-fs cache=none",
  tmpfs: "guest tmpfs",
  "vfs-auto-ra": "virtio-fs auto, readahead raised",
  "vfs-auto-pool64": "virtio-fs auto, thread pool 64",
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
  const name = String(meta.result ?? "io");
  const isProbe = (r: IoRec) => r.job.startsWith("probe-");
  const targets = [...new Set(recs.filter((r) => !isProbe(r)).map((r) => r.target))];
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
  const rel = (t: string, mt: Metric): number =>
    ratio(mt.lowerIsBetter, table[t]?.[mt.key], table["vfs-auto"]?.[mt.key]);
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
  if (table["vfs-auto"] && table["vfs-auto-pool64"]) {
    const p = g("vfs-auto-pool64"),
      ppar = rel(
        "vfs-auto-pool64",
        METRICS.find((x) => x.key === "rand_read_4")!,
      );
    sugg.push(
      `**thread pool**: \`--thread-pool-size=64\` scores ${fmt(p, 2)}× of the daemons' default (0: requests handled on the virtqueue thread, for the C virtiofsd of QEMU 7.2 and the Rust one) overall and ` +
        `${fmt(ppar, 2)}× on 4 parallel random readers. ` +
        (p > 1 + threshold("vfs-auto-pool64")
          ? "The pool helps here. Suggested: a pool for shares whose host storage has high latency; measure before changing the default."
          : "No gain beyond the noise of this shared host. Suggested default: leave `thread_pool_size` unset (emit nothing: the daemon's own default, no pool)."),
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

  const probeRows = probeTable(recs);
  const jf = writeJson(name, {
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
    name,
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
serve **the same host directory** (${meta.host_fs}); each target works in its own subdirectory. One C virtiofsd
(${meta.virtiofsd ?? "/usr/lib/qemu/virtiofsd"}) per virtio-fs target, each its own tag: cache auto, always, none (no thread pool = the
daemon's default, queue-size 1024), plus variants of auto: \`--thread-pool-size=64\`, queue-size 128 and the
mount's readahead (bdi \`read_ahead_kb\`) raised to ${meta.readahead_kb_ra ?? "?"} KiB. Guest CPU \`${meta.guest_cpu ?? "max"}\`
(${meta.guest_cpu_model ?? "?"}; copy-routine flags: ${meta.guest_cpu_flags || "none of erms/fsrm/rep_good"}). 9p:
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

${probeRows.length ? probeSection(probeRows, meta) : ""}
${errors.length ? `Errors: ${errors.map((e) => `\`${e.target}/${e.job}\`: ${e.error?.slice(0, 200)}`).join("; ")}\n` : ""}
What the numbers suggest for the generated defaults:

${sugg.map((s) => `- ${s}`).join("\n")}

![io chart](${name}.svg)

Load average on the host: ${meta.load_start} at start, ${meta.load_end} at the end (anything else running on the
${m.nproc} cores shows up as round-to-round spread).
`;
  // a probe-only run (BENCH_IO_ROUNDS=0) has no timed table: its section is the probe table alone
  const probeOnly = `## ${name} — probe pass only (bench/io, BENCH_IO_ROUNDS=0)

${machineLine(m)}

**${meta.accel}**. One guest (QEMU direct, 2 vCPU, 1 GiB, kernel ${meta.guest_kernel}; booted in ${meta.boot_s} s); guest CPU
\`${meta.guest_cpu ?? "max"}\` (${meta.guest_cpu_model ?? "?"}; copy-routine flags: ${meta.guest_cpu_flags || "none of erms/fsrm/rep_good"});
virtiofsd ${meta.virtiofsd ?? "?"}, cache auto/none, no thread pool, queue-size 1024; vfs-auto-ra: bdi \`read_ahead_kb\` = ${meta.readahead_kb_ra ?? "?"}; 9p \`${meta.p9_opts}\`.

${probeRows.length ? probeSection(probeRows, meta) : ""}`;
  updateReport(name, targets.length ? body.replace("## io — virtio-fs", `## ${name} — virtio-fs`) : probeOnly);
  if (probeRows.length)
    console.log(
      `\nprobe (dd bs=1M): ${probeRows.map((r) => `${r[0]} ${r[1]} ${r[2]} MiB/s, ${r[10]} req of ${r[11]} KiB`).join("; ")}`,
    );
  if (name !== "io") {
    console.log(`\nwrote ${jf}, bench/results/${name}.svg, bench/results/REPORT.md (section ${name})`);
    return;
  }
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

// The probe pass: one dd bs=1M write and read per guest target, with the CPU split and the requests sent.
function probeTable(recs: IoRec[]): Row[] {
  const kib = (r: IoRec) =>
    Object.entries(r.requests?.kib ?? {})
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, n]) => `${n}× ${k}`)
      .join(", ");
  return recs
    .filter((r) => r.job.startsWith("probe-"))
    .map((r) => {
      const op = r.job.slice("probe-".length);
      const mib = r.mib ?? 0;
      const blkIos = op === "read" ? r.vda_read_ios : r.vda_write_ios;
      const blkKib = op === "read" ? r.vda_read_kib : r.vda_write_kib;
      const n = r.target === "guest-disk" ? blkIos : r.requests?.requests;
      const avg = r.target === "guest-disk" ? (blkIos ? (blkKib ?? 0) / blkIos : NaN) : n ? (mib * 1024) / n : NaN;
      return [
        LABELS[r.target] ?? r.target,
        op,
        fmt(r.mib_s ?? NaN, (r.mib_s ?? 0) < 100 ? 1 : 0),
        fmt(r.wall_s ?? NaN, 2),
        fmt(r.qemu_vcpu_s ?? NaN, 2),
        fmt(r.qemu_other_s ?? NaN, 2),
        r.target.startsWith("vfs-") ? fmt(r.virtiofsd_s ?? NaN, 2) : "-",
        fmt(r.guest_sys_s ?? NaN, 2),
        fmt(r.guest_user_s ?? NaN, 2),
        String(r.read_ahead_kb ?? ""),
        n === undefined ? "not logged" : String(n),
        Number.isFinite(avg) ? fmt(avg, 0) : "-",
        r.target === "guest-disk" ? "(virtio-blk)" : kib(r),
      ];
    });
}

function probeSection(rows: Row[], meta: Record<string, string | number>): string {
  const head = [
    "target",
    "dd bs=1M",
    "MiB/s",
    "wall (s)",
    "QEMU vCPU threads (CPU s)",
    "QEMU other threads (CPU s)",
    "virtiofsd (CPU s)",
    "guest sys (CPU s)",
    "guest user (CPU s)",
    "read_ahead_kb",
    "requests",
    "mean request (KiB)",
    "request sizes (count × KiB)",
  ];
  return `Probe pass (before the timed rounds): per guest target, \`dd bs=1M\` writes one ${meta.size_mib} MiB file (\`conv=fsync\`),
then reads it back after dropping the guest's caches. CPU time over the dd alone (host \`/proc/<pid>/task/*/stat\`, guest
\`/proc/stat\`; 2 vCPUs, so wall × 2 is the vCPU budget). Requests: virtio-fs from virtiofsd's debug log (\`lo_read\` /
\`lo_write_buf\`), 9p from QEMU's \`v9fs_read\`/\`v9fs_write\` trace, the guest disk from \`/sys/block/vda/stat\`
${Number(meta.virtiofsd_debug) === 1 ? "(this run logged every request: its timings are slowed by the logging and are not comparable)" : "(virtio-fs and 9p requests are logged only in a BENCH_VFSD_DEBUG=1 run)"}.

${markdownTable(head, rows)}
`;
}
