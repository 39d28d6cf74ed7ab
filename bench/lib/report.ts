// Shared helpers of the benchmarks: machine description, result files, plain-text tables, SVG charts
// (hand-written SVG, no library) and the per-benchmark sections of bench/results/REPORT.md.
// Benchmarks report numbers; they never assert on timings.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const BENCH_DIR = path.resolve(__dirname, "..");
export const REPO_DIR = path.resolve(BENCH_DIR, "..");
export const RESULTS_DIR = path.join(BENCH_DIR, "results");

export interface Machine {
  date: string;
  hostname: string;
  nproc: number;
  memory_gib: number;
  cpu_model: string;
  kernel: string;
  accel: string;
  qemu: string;
  node: string;
  loadavg_at_summary: string;
  other_vms_running: number;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function accelLabel(): string {
  return sh("bash", [path.join(REPO_DIR, "lab/accel.sh")]) === "kvm" ? "KVM" : "emulated (TCG)";
}

/** accel.sh's reason line ("accel: qemu/TCG (/dev/kvm is kvm_pvm: ...)"). */
export function accelReason(): string {
  try {
    return execFileSync("bash", ["-c", `bash "${path.join(REPO_DIR, "lab/accel.sh")}" 2>&1 >/dev/null`], {
      encoding: "utf8",
    }).trim();
  } catch {
    return "";
  }
}

export function machine(): Machine {
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  // QEMU processes of other users (Molecule/libvirt guests) compete for the same cores.
  const qemus = sh("sh", ["-c", "ps -eo comm= | grep -c '^qemu-system' || true"]);
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    nproc: Number(sh("nproc", [])) || os.cpus().length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu_model: model,
    kernel: os.release(),
    accel: accelLabel(),
    qemu: sh("qemu-system-x86_64", ["--version"]).split("\n")[0] ?? "",
    node: process.version,
    loadavg_at_summary: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    other_vms_running: Number(qemus) || 0,
  };
}

export function machineLine(m: Machine): string {
  return (
    `${m.date.slice(0, 16).replace("T", " ")} UTC · ${m.nproc} CPUs (${m.cpu_model}) · ${m.memory_gib} GiB RAM · ` +
    `kernel ${m.kernel} · accel **${m.accel}** · ${m.qemu} · Node ${m.node} · load ${m.loadavg_at_summary}`
  );
}

export function writeJson(name: string, data: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

// ------------------------------------------------------------------ statistics
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** VALUE relative to BASE, higher is better: for a lower-is-better metric (latency) the ratio is inverted. */
export function ratio(lowerIsBetter: boolean | undefined, value: number | undefined, base: number | undefined): number {
  if (value === undefined || base === undefined) return NaN;
  return lowerIsBetter ? base / value : value / base;
}

export function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return "n/a";
  if (Number.isInteger(x)) return Math.abs(x) >= 1000 ? x.toLocaleString("en-US").replace(/,/g, " ") : String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US").replace(/,/g, " ");
  return x.toFixed(digits);
}

// ------------------------------------------------------------------ tables
export type Row = (string | number)[];

export function markdownTable(head: string[], rows: Row[]): string {
  const line = (r: Row) => `| ${r.map((c) => String(c)).join(" | ")} |`;
  return [line(head), `|${head.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

export function textTable(head: string[], rows: Row[]): string {
  const all = [head, ...rows].map((r) => r.map((c) => String(c).replace(/\*\*/g, "")));
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(all[0]), w.map((n) => "-".repeat(n)).join("  "), ...all.slice(1).map(line)].join("\n");
}

// ------------------------------------------------------------------ SVG
export interface Bar {
  label: string;
  value: number;
  color?: string;
  note?: string; // printed after the value
}
export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
  log?: boolean; // logarithmic scale (values spanning decades)
}

export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Horizontal bar charts, one panel under the other, in plain SVG text. */
export function svgPanels(title: string, subtitle: string, panels: Panel[], columns = 1): string {
  const W = columns === 1 ? 1000 : 650 * columns;
  const colW = W / columns;
  const labelW = columns === 1 ? 210 : 200;
  const valueW = columns === 1 ? 150 : 90;
  const barH = 16;
  const gap = 5;
  const panelHead = 30;
  const panelPad = 18;
  const heights = panels.map((p) => panelHead + p.bars.length * (barH + gap) + panelPad);
  // lay out panels in columns, row by row
  const rowsH: number[] = [];
  for (let i = 0; i < panels.length; i += columns) rowsH.push(Math.max(...heights.slice(i, i + columns)));
  const top = 62;
  const H = top + rowsH.reduce((a, b) => a + b, 0) + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="24" font-size="17" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="12" y="44" font-size="11" fill="#555">${esc(subtitle)}</text>`);
  let y0 = top;
  panels.forEach((p, idx) => {
    const col = idx % columns;
    const row = Math.floor(idx / columns);
    if (col === 0 && row > 0) y0 += rowsH[row - 1];
    const x0 = col * colW + 10;
    const plotW = colW - labelW - valueW - 20;
    const vals = p.bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
    const max = vals.length ? Math.max(...vals) : 1;
    const min = vals.length ? Math.min(...vals) : 1;
    const useLog = p.log ?? max / Math.max(min, 1e-9) > 200;
    const lo = useLog ? Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-9)))) : 0;
    const scale = (v: number) => {
      if (!Number.isFinite(v) || v <= 0) return 0;
      if (!useLog) return (v / max) * plotW;
      return Math.max(2, ((Math.log10(v) - Math.log10(lo)) / (Math.log10(max) - Math.log10(lo) || 1)) * plotW);
    };
    out.push(
      `<text x="${x0}" y="${y0 + 18}" font-size="13" font-weight="bold">${esc(p.title)}<tspan dx="6" font-weight="normal" fill="#555">(${esc(p.unit)}${useLog ? ", log scale" : ""})</tspan></text>`,
    );
    p.bars.forEach((b, i) => {
      const y = y0 + panelHead + i * (barH + gap);
      const w = scale(b.value);
      out.push(`<text x="${x0 + labelW - 6}" y="${y + barH - 4}" text-anchor="end">${esc(b.label)}</text>`);
      out.push(
        `<rect x="${x0 + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.color ?? PALETTE[i % PALETTE.length]}"/>`,
      );
      const txt =
        (Number.isFinite(b.value) ? fmt(b.value, b.value < 10 ? 2 : 1) : "n/a") + (b.note ? ` ${b.note}` : "");
      out.push(`<text x="${x0 + labelW + w + 5}" y="${y + barH - 4}" fill="#222">${esc(txt)}</text>`);
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

export function writeSvg(name: string, svg: string): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.svg`);
  fs.writeFileSync(file, svg);
  return file;
}

// ------------------------------------------------------------------ REPORT.md
const ORDER = ["converge", "io", "io_before_after", "io_cause", "io_profile", "generate", "host"];
const HEADER = `# Benchmark report

Written by \`npm run bench\` (\`bench/run.sh\`); each section is replaced when its benchmark runs again,
so sections may come from different runs (each names its machine and time). Raw numbers are in
\`bench/results/<name>.json\`. These are measurements, never pass/fail tests: under emulation (TCG)
absolute figures say nothing about real hardware, only ratios measured within one run do.
`;

export function updateReport(name: string, body: string): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, "REPORT.md");
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const sections = new Map<string, string>();
  const re = /<!-- BEGIN (\w+) -->\n([\s\S]*?)<!-- END \1 -->/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(old))) sections.set(m[1], m[2]);
  sections.set(name, body.endsWith("\n") ? body : body + "\n");
  const names = [...ORDER.filter((n) => sections.has(n)), ...[...sections.keys()].filter((n) => !ORDER.includes(n))];
  const text =
    HEADER + names.map((n) => `\n<!-- BEGIN ${n} -->\n${sections.get(n)}<!-- END ${n} -->\n`).join("") + limits();
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Replaces the benchmark's region of README.md (between `<!-- BEGIN bench:NAME -->` and
 * `<!-- END bench:NAME -->`), so the README's Performance section always shows the latest run.
 */
export function updateReadme(name: string, markdown: string): void {
  const file = path.join(REPO_DIR, "README.md");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const begin = `<!-- BEGIN bench:${name} -->\n`;
  const end = `<!-- END bench:${name} -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    process.stderr.write(`README.md has no ${begin.trim()} region: README not updated\n`);
    return;
  }
  fs.writeFileSync(file, `${text.slice(0, i + begin.length)}${markdown.trim()}\n${text.slice(j)}`);
}

/** What these benchmarks cannot measure on this machine, and why (appended to REPORT.md). */
function limits(): string {
  const accel = accelLabel();
  const reason = accelReason().replace(/^accel:\s*/, "");
  return `
## What could not be measured here, and why

- **Hardware-accelerated guests.** ${
    accel === "KVM"
      ? "KVM was usable for this run."
      : `Every guest ran under TCG: \`lab/accel.sh\` says ${reason ? `"${reason}"` : "no usable KVM"}. ` +
        "Guest CPU work (Python and Node start-up, FUSE request handling, fio itself) is emulated, so absolute " +
        "guest figures are 10-100× below real hardware and only ratios within one run mean anything. The seed's " +
        "published figures (1-3 GB/s, 50-100 K IOPS, 10-50 K metadata ops/s) can neither be confirmed nor refuted here."
  }
- **Cold host-disk reads.** The host page cache is shared with other engineers' jobs; dropping it would disturb
  them, so every target reads data the host holds in RAM (the figures compare transports, not disks).
- **Quiet machine.** Each section gives the host's load average at its start and end; a load near or above
  the CPU count means other work shared the cores during that run. converge alternates its runs so both roles
  see the same conditions; io repeats every target in rounds of alternating order and shows the spread.
  Repeat on an idle host for tighter spreads.
- **Rust virtiofsd, DAX, \`--readonly\`.** Only Debian 12's C virtiofsd (QEMU 7.2) is installed; the Rust daemon's
  cache modes (\`metadata\`, \`never\`), its default thread pool of 0 and host-enforced read-only were not measured,
  and QEMU 7.2 has no virtio-fs DAX window.
- **Deep queues.** The I/O jobs are buffered psync at queue depth 1 (plus 4 parallel readers), like the seed's suite;
  FUSE buffered I/O keeps at most one request per guest thread in flight, so queue sizes above a handful of
  requests are not exercised (a queue-size variant is measured, and is expected to show no effect).
`;
}
