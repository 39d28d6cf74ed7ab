// bench/generate: wall time and peak memory (max RSS of the process tree, GNU time) of
//   - `npm run generate` end to end, in a scratch copy of the repository (the working tree's tracked
//     files; node_modules linked), so the benchmark never rewrites the files other people work on;
//   - `node bin/vfsgen.js generate` and `generate --check` in the same copy (npm's own overhead apart);
//   - `vfsgen validate`, `render` and `inventory` on generated cluster configurations of 10, 100 and
//     1 000 VMs with 5 shares each.
// Every command runs BENCH_GEN_REPS times (default 3); the tables show the median (and min–max).
// Env: BENCH_GEN_REPS, BENCH_GEN_SIZES (default "10 100 1000"), BENCH_KEEP=1.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  Bar,
  fmt,
  machine,
  machineLine,
  markdownTable,
  median,
  PALETTE,
  Panel,
  REPO_DIR,
  Row,
  svgPanels,
  textTable,
  updateReadme,
  updateReport,
  writeJson,
  writeSvg,
} from "../lib/report";

const REPS = Number(process.env.BENCH_GEN_REPS ?? 3);
const SIZES = (process.env.BENCH_GEN_SIZES ?? "10 100 1000").split(/\s+/).filter(Boolean).map(Number);
const SHARES = 5;
const TMP_ROOT = process.env.BENCH_TMP_ROOT ?? "/var/tmp/vfs-bench";

interface Sample {
  wall_s: number;
  max_rss_mib: number;
  user_s: number;
  sys_s: number;
  rc: number;
}
interface Measure {
  command: string;
  label: string;
  vms?: number;
  input_bytes?: number;
  output_bytes?: number;
  samples: Sample[];
  wall_s: number;
  wall_min: number;
  wall_max: number;
  cpu_s: number; // user + sys, median: less sensitive than wall time to other jobs on the host
  max_rss_mib: number;
}

function log(msg: string): void {
  process.stderr.write(`[bench generate] ${msg}\n`);
}

/** Runs argv under GNU time; stdout goes to `stdoutFile` (or is discarded). */
function timed(argv: string[], cwd: string, stdoutFile?: string): Sample {
  const tf = path.join(os.tmpdir(), `vfs-bench-time-${process.pid}`);
  const out = stdoutFile ? fs.openSync(stdoutFile, "w") : "ignore";
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", "-o", tf, ...argv], {
    cwd,
    stdio: ["ignore", out, "pipe"],
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  if (typeof out === "number") fs.closeSync(out);
  const [e, m, u, s] = fs.readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  fs.rmSync(tf, { force: true });
  if (r.status !== 0) log(`${argv.join(" ")} exited ${r.status}: ${(r.stderr ?? "").slice(-400)}`);
  return { wall_s: e, max_rss_mib: m / 1024, user_s: u, sys_s: s, rc: r.status ?? -1 };
}

function measure(
  command: string,
  label: string,
  argv: string[],
  cwd: string,
  extra: Partial<Measure> = {},
  stdoutFile?: string,
): Measure {
  const samples: Sample[] = [];
  for (let i = 0; i < REPS; i++) samples.push(timed(argv, cwd, stdoutFile));
  const walls = samples.map((s) => s.wall_s);
  const m: Measure = {
    command,
    label,
    ...extra,
    samples,
    wall_s: median(walls),
    wall_min: Math.min(...walls),
    wall_max: Math.max(...walls),
    cpu_s: median(samples.map((s) => s.user_s + s.sys_s)),
    max_rss_mib: Math.max(...samples.map((s) => s.max_rss_mib)),
  };
  if (stdoutFile && fs.existsSync(stdoutFile)) m.output_bytes = fs.statSync(stdoutFile).size;
  log(
    `${label}: ${fmt(m.wall_s, 2)} s (${fmt(m.wall_min, 2)}–${fmt(m.wall_max, 2)}), max RSS ${fmt(m.max_rss_mib)} MiB${samples.some((s) => s.rc !== 0) ? ", FAILED" : ""}`,
  );
  return m;
}

/** A cluster configuration of `vms` VMs (10 per cluster), each with 5 shares using a mix of options. */
function clusterConfig(vms: number): string {
  const lines = [`# bench/generate: ${vms} VMs x ${SHARES} shares`, "clusters:"];
  const clusters = Math.ceil(vms / 10);
  let n = 0;
  for (let c = 0; c < clusters; c++) {
    lines.push(`  c${String(c).padStart(3, "0")}:`);
    for (let v = 0; v < 10 && n < vms; v++, n++) {
      const name = `vm${String(n).padStart(4, "0")}`;
      lines.push(
        `    ${name}:`,
        "      cpu_cores: 2",
        "      memory_gb: 4",
        `      ip_address: "10.${((n + 1) >> 16) & 255}.${((n + 1) >> 8) & 255}.${(n + 1) & 255}"`,
        "      virtio_fs_mounts:",
      );
      for (let s = 0; s < SHARES; s++) {
        lines.push(
          `        - tag: data${s}`,
          `          host_path: /srv/vfs/${name}/data${s}`,
          `          mount_point: /mnt/data${s}`,
        );
        if (s === 1) lines.push("          readonly: true", "          cache: always");
        if (s === 2)
          lines.push(
            "          owner: admin",
            "          group: admin",
            '          mode: "0750"',
            "          queue_size: 512",
          );
        if (s === 3) lines.push("          cache: never", "          thread_pool_size: 0");
        if (s === 4) lines.push("          options: rw,noatime,nofail");
      }
    }
  }
  return lines.join("\n") + "\n";
}

function copyRepo(dst: string): void {
  // tracked files as they are in the working tree (tar keeps modes); node_modules linked, not copied
  const files = execFileSync("git", ["-C", REPO_DIR, "ls-files", "-z"], { encoding: "buffer" });
  const list = path.join(dst, "..", "files.lst");
  fs.writeFileSync(list, files);
  execFileSync("sh", [
    "-c",
    `tar -C "${REPO_DIR}" --null -T "${list}" --ignore-failed-read -cf - 2>/dev/null | tar -C "${dst}" -xf -`,
  ]);
  fs.symlinkSync(path.join(REPO_DIR, "node_modules"), path.join(dst, "node_modules"));
}

function main(): void {
  const work = path.join(TMP_ROOT, `generate.${process.pid}`);
  const repo = path.join(work, "repo");
  fs.mkdirSync(repo, { recursive: true });
  const cleanup = () => {
    if (process.env.BENCH_KEEP === "1") log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

  const m = machine();
  copyRepo(repo);
  log(`scratch copy of the repository in ${repo}`);
  const results: Measure[] = [];

  // generate: the first run is the cold one (it builds the CLI bundle in .cache/, cold file cache); report it separately
  const cold = timed(["npm", "run", "--silent", "generate"], repo);
  log(`npm run generate (first, cold): ${fmt(cold.wall_s, 2)} s, max RSS ${fmt(cold.max_rss_mib)} MiB`);
  results.push(measure("generate", "npm run generate", ["npm", "run", "--silent", "generate"], repo));
  results.push(measure("generate-node", "node bin/vfsgen.js generate", ["node", "bin/vfsgen.js", "generate"], repo));
  results.push(
    measure("generate-check", "vfsgen generate --check", ["node", "bin/vfsgen.js", "generate", "--check"], repo),
  );
  const changed = execFileSync(
    "sh",
    [
      "-c",
      `cd "${repo}" && for f in $(cd "${REPO_DIR}" && git ls-files generated collection README.md); do cmp -s "$f" "${REPO_DIR}/$f" || echo "$f"; done`,
    ],
    { encoding: "utf8" },
  ).trim();

  const cfgDir = path.join(work, "configs");
  fs.mkdirSync(cfgDir);
  for (const vms of SIZES) {
    const file = path.join(cfgDir, `cluster-${vms}.yml`);
    fs.writeFileSync(file, clusterConfig(vms));
    const input_bytes = fs.statSync(file).size;
    const extra = { vms, input_bytes };
    results.push(measure("validate", `validate ${vms} VMs`, ["node", "bin/vfsgen.js", "validate", file], repo, extra));
    results.push(
      measure(
        "render",
        `render ${vms} VMs`,
        ["node", "bin/vfsgen.js", "render", file],
        repo,
        extra,
        path.join(work, `render-${vms}.xml`),
      ),
    );
    results.push(
      measure(
        "inventory",
        `inventory ${vms} VMs`,
        ["node", "bin/vfsgen.js", "inventory", file],
        repo,
        extra,
        path.join(work, `inventory-${vms}.yml`),
      ),
    );
  }
  // start-up floor: the CLI doing nothing useful
  results.push(measure("help", "vfsgen --help (start-up floor)", ["node", "bin/vfsgen.js", "--help"], repo));

  // ---------------------------------------------------------------- tables
  const by = (c: string, v?: number) => results.find((r) => r.command === c && r.vms === v);
  const gen = by("generate")!;
  const head1 = ["command", "wall s median (min–max)", "CPU s (user+sys)", "max RSS MiB"];
  const rows1: Row[] = [
    [
      "npm run generate, first run (cold)",
      fmt(cold.wall_s, 2),
      fmt(cold.user_s + cold.sys_s, 2),
      fmt(cold.max_rss_mib),
    ],
    ...["generate", "generate-node", "generate-check", "help"].map((c) => {
      const r = by(c)!;
      return [
        r.label,
        `${fmt(r.wall_s, 2)} (${fmt(r.wall_min, 2)}–${fmt(r.wall_max, 2)})`,
        fmt(r.cpu_s, 2),
        fmt(r.max_rss_mib),
      ] as Row;
    }),
  ];
  const head2 = [
    "VMs",
    "shares",
    "input KiB",
    "validate s (min–max)",
    "validate CPU s",
    "validate MiB",
    "render s",
    "render CPU s",
    "render MiB",
    "render out KiB",
    "inventory s",
    "inventory CPU s",
    "inventory MiB",
  ];
  const rows2: Row[] = SIZES.map((v) => {
    const va = by("validate", v)!,
      re = by("render", v)!,
      inv = by("inventory", v)!;
    return [
      v,
      v * SHARES,
      fmt(va.input_bytes! / 1024),
      `${fmt(va.wall_s, 2)} (${fmt(va.wall_min, 2)}–${fmt(va.wall_max, 2)})`,
      fmt(va.cpu_s, 2),
      fmt(va.max_rss_mib),
      fmt(re.wall_s, 2),
      fmt(re.cpu_s, 2),
      fmt(re.max_rss_mib),
      fmt((re.output_bytes ?? 0) / 1024),
      fmt(inv.wall_s, 2),
      fmt(inv.cpu_s, 2),
      fmt(inv.max_rss_mib),
    ];
  });
  // memory growth per VM between sizes (linear input -> constant increment per VM)
  const perVm = (c: string, i: number) =>
    ((by(c, SIZES[i])!.max_rss_mib - by(c, SIZES[i - 1])!.max_rss_mib) * 1024) / (SIZES[i] - SIZES[i - 1]);
  const growth = (c: string): string =>
    SIZES.slice(1)
      .map((v, k) => `${SIZES[k]}→${v}: ${fmt(perVm(c, k + 1), 1)} KiB/VM`)
      .join(", ");
  // Memory is linear (or better) when the increment per VM of the largest step is not above the first
  // step's; the first step also carries heap growth the floor did not need, so it is the generous one.
  const superLinear =
    SIZES.length < 3
      ? []
      : ["validate", "render", "inventory"].filter((c) => perVm(c, SIZES.length - 1) > 1.25 * Math.max(perVm(c, 1), 1));
  const timeGrowth = (c: string): string => {
    const a = by(c, SIZES[0])!,
      b = by(c, SIZES[SIZES.length - 1])!;
    return `${fmt(((b.wall_s - a.wall_s) * 1000) / (SIZES[SIZES.length - 1] - SIZES[0]), 2)} ms/VM`;
  };
  const big = SIZES[SIZES.length - 1];
  const v1000 = by("validate", 1000);
  const targets: Row[] = [
    [
      "npm run generate",
      "< 3 s",
      `${fmt(gen.wall_s, 2)} s warm median, ${fmt(cold.wall_s, 2)} s cold`,
      gen.wall_s < 3 ? (cold.wall_s < 3 ? "met" : "met warm, **not met cold**") : "**not met**",
    ],
    [
      "validate, 1 000 VMs",
      "< 1 s",
      v1000 ? `${fmt(v1000.wall_s, 2)} s (process start-up ${fmt(by("help")!.wall_s, 2)} s included)` : "not measured",
      v1000 ? (v1000.wall_s < 1 ? "met" : "**not met**") : "",
    ],
    [
      "memory linear in input",
      "constant KiB per VM",
      `validate ${growth("validate")}; render ${growth("render")}; inventory ${growth("inventory")}`,
      superLinear.length
        ? `**grows faster than the input**: ${superLinear.join(", ")}`
        : "met (no command's KiB per VM grows with size)",
    ],
  ];

  console.log(`\ngenerate (${m.nproc} CPUs ${m.cpu_model}, ${REPS} runs each)\n`);
  console.log(textTable(head1, rows1));
  console.log("");
  console.log(textTable(head2, rows2));
  console.log("");
  console.log(textTable(["target", "goal", "measured", ""], targets));

  const json = {
    benchmark: "generate",
    machine: m,
    reps: REPS,
    sizes: SIZES,
    shares_per_vm: SHARES,
    cold_generate: cold,
    generated_files_differ_from_repo: changed ? changed.split("\n") : [],
    results,
  };
  const jf = writeJson("generate", json);

  const cmds = ["validate", "render", "inventory"];
  const panels: Panel[] = [
    {
      title: "generate",
      unit: "s, median",
      log: false,
      bars: [
        { label: "npm run generate (cold)", value: cold.wall_s, color: PALETTE[3] },
        ...["generate", "generate-node", "generate-check", "help"].map((c, i): Bar => ({
          label: by(c)!.label.replace(" (start-up floor)", ""),
          value: by(c)!.wall_s,
          color: PALETTE[i % 3],
        })),
      ],
    },
    {
      title: "validate / render / inventory wall time",
      unit: "s, median",
      log: false,
      bars: SIZES.flatMap((v) =>
        cmds.map((c, i): Bar => ({ label: `${c} ${v} VMs`, value: by(c, v)!.wall_s, color: PALETTE[i] })),
      ),
    },
    {
      title: "peak memory (max RSS)",
      unit: "MiB",
      log: false,
      bars: SIZES.flatMap((v) =>
        cmds.map((c, i): Bar => ({ label: `${c} ${v} VMs`, value: by(c, v)!.max_rss_mib, color: PALETTE[i] })),
      ),
    },
  ];
  writeSvg(
    "generate",
    svgPanels(
      "generate: vfsgen generate, validate, render, inventory",
      `${m.nproc} CPUs ${m.cpu_model} · ${REPS} runs each, median · ${m.date.slice(0, 10)}`,
      panels,
      1,
    ),
  );

  const body = `## generate — vfsgen CLI

${machineLine(m)}

Wall time and peak memory (\`/usr/bin/time\`: max RSS of the process tree, i.e. of node) of each command,
${REPS} runs each (median, min–max). \`npm run generate\` runs end to end in a scratch copy of the
repository's tracked files (node_modules linked), so the benchmark never rewrites files in the working
tree; its output there ${changed ? `**differed** from the repository in: ${changed.split("\n").join(", ")}` : "was identical to the committed generated files"}.
The configurations are generated: ${SIZES.join(", ")} VMs (10 per cluster) with ${SHARES} shares each, using a mix of
options (readonly, cache always/never, queue size, thread pool, owner/group/mode, mount options).
All commands run \`node bin/vfsgen.js\`, as the package's bin does: it loads one esbuild bundle of \`src/\`
(\`.cache/cli/vfsgen.cjs\`, rebuilt when a source is newer; the cold run above includes that build).

${markdownTable(head1, rows1)}

${markdownTable(head2, rows2)}

Time per additional VM (smallest → largest size): validate ${timeGrowth("validate")}, render ${timeGrowth("render")},
inventory ${timeGrowth("inventory")}.

Targets:

${markdownTable(["target", "goal", "measured", ""], targets)}

Memory: a fixed floor (Node + the CLI bundle + the compiled schema, see \`--help\` at ${fmt(by("help")!.max_rss_mib)} MiB) plus a
per-VM increment; "linear" means the increment per VM stays about the same from ${SIZES[0]} to ${big} VMs
(small sizes are dominated by the floor and by garbage-collector timing).

![generate chart](generate.svg)
`;
  updateReport("generate", body);
  updateReadme(
    "generate",
    `${m.date.slice(0, 16).replace("T", " ")} UTC · ${m.nproc} CPUs · ${REPS} runs each, median
(all commands: [bench/results/REPORT.md](bench/results/REPORT.md)).

${markdownTable(head2, rows2)}

${markdownTable(["target", "goal", "measured", ""], targets)}

![generate chart](bench/results/generate.svg)`,
  );
  console.log(`\nwrote ${jf}, bench/results/generate.svg, bench/results/REPORT.md`);
}

main();
