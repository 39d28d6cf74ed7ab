// Summarises bench/io/profile.sh: where the emulated guest's vCPUs were while it read one file in a
// loop, per guest CPU model and target. Prints a table and replaces the io_profile section of
// bench/results/REPORT.md.
//
//   npx tsx bench/lib/summarize-profile.ts bench/results/io_profile.json
import * as fs from "fs";
import { machine, machineLine, markdownTable, Row, textTable, updateReport } from "./report";

interface Profile {
  samples: number;
  user: number;
  unknown: number;
  functions: [string, number][];
}
interface Run {
  cpu: string;
  copy_flags: string;
  kernel: string;
  targets: Record<string, { profile: Profile } & Record<string, number | Profile>>;
}
interface ProfileFile {
  machine?: ReturnType<typeof machine>;
  size_mib: number;
  loop_seconds: number;
  sample_seconds: number;
  hz: number;
  runs: Run[];
}

/** The guest's idle loop: a vCPU with nothing to run halts here. */
const IDLE = /^(native_safe_halt|default_idle|do_idle|cpu_idle_poll|mwait_idle|acpi_idle_do_entry)$/;

/** Kernel functions by what they do for a read, first match wins; the names are Linux 6.1's. */
export const CATEGORIES: [string, RegExp][] = [
  ["copy/clear (rep string)", /^(copy_user_|clear_page_|clear_user_|memset|memcpy|memmove)/],
  [
    "page alloc/free",
    /alloc_pages|freelist|free_one_page|free_unref|free_pcp|rmqueue|__free_pages|release_pages|prep_new_page|kmem_cache|slab|kmalloc|__kmem/,
  ],
  [
    "LRU, memcg, page state",
    /lru|memcg|cgroup|charge|node_page_state|zone_page_state|folio_batch|pagevec|deactivate|PageHuge|folio_mapped|rmap/,
  ],
  [
    "page cache index",
    /^xas_|^xa_|filemap|find_lock_entries|page_cache|folio_unlock|folio_wait|readahead|mapping_evict|remove_mapping|drop_pagecache|invalidate|truncate/,
  ],
  ["device kicks, interrupts", /iowrite|ioread|vring|virtqueue|vp_notify|apic|IPI|irq/],
  ["FUSE, virtio-fs, 9p code", /^fuse|virtio_fs|^p9|^v9fs/],
  ["locks, RCU, scheduler", /spin|rcu|schedule|mutex|cond_resched|lock/],
];

export function categorise(p: Profile): { busy: number; kernel: number; byCategory: Record<string, number> } {
  const byCategory: Record<string, number> = Object.fromEntries([
    ...CATEGORIES.map(([c]) => [c, 0]),
    ["other kernel", 0],
  ]);
  let kernel = 0;
  for (const [name, n] of p.functions) {
    if (IDLE.test(name)) continue;
    kernel += n;
    const c = CATEGORIES.find(([, re]) => re.test(name));
    byCategory[c ? c[0] : "other kernel"] += n;
  }
  return { busy: kernel + p.user + p.unknown, kernel, byCategory };
}

function main(): void {
  const file = process.argv[2];
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as ProfileFile;
  // the machine is recorded at the first summary, right after the run, and kept for later ones
  const m = data.machine ?? machine();
  if (!data.machine) fs.writeFileSync(file, JSON.stringify({ machine: m, ...data }, null, 1) + "\n");
  const cats = [...CATEGORIES.map(([c]) => c), "other kernel"];
  const head = [
    "guest CPU (copy flags)",
    "target",
    `${data.size_mib} MiB reads in ${data.loop_seconds} s`,
    "busy samples",
    "user space",
    ...cats,
  ];
  const rows: Row[] = [];
  for (const run of data.runs) {
    for (const [target, v] of Object.entries(run.targets)) {
      const c = categorise(v.profile);
      const pct = (n: number) => `${Math.round((100 * n) / Math.max(c.busy, 1))} %`;
      rows.push([
        `${run.cpu} (${run.copy_flags})`,
        target,
        String(v[`reads_of_${data.size_mib}_mib`]),
        c.busy,
        pct(v.profile.user),
        ...cats.map((k) => pct(c.byCategory[k])),
      ]);
    }
  }
  const top = data.runs
    .map((run) =>
      Object.entries(run.targets)
        .map(([t, v]) => {
          const fns = v.profile.functions.filter(([n]) => !IDLE.test(n)).slice(0, 6);
          return `- ${run.cpu}, ${t}: ${fns.map(([n, k]) => `\`${n}\` ${k}`).join(", ")}`;
        })
        .join("\n"),
    )
    .join("\n");
  process.stdout.write(textTable(head, rows) + "\n");
  const body = `## io_profile — where the emulated guest spends a buffered read (issue 15)

${machineLine(m)}

\`bench/io/profile.sh\`: one guest per CPU model (QEMU direct, 2 vCPU, kernel ${data.runs[0]?.kernel ?? "?"}),
virtio-fs \`cache=auto\` and \`cache=none\` (C virtiofsd), 9p (msize 256 KiB) and a guest tmpfs. Per target
the guest reads one ${data.size_mib} MiB file with \`dd bs=1M\` in a loop for ${data.loop_seconds} s, dropping its
caches before each read, while \`bench/io/guest-profile.py\` asks QEMU over QMP for every vCPU's instruction
pointer ${data.hz} times a second for ${data.sample_seconds} s and names it with the guest's \`/proc/kallsyms\`
(nothing is installed in the guest; TCG emulates no PMU for perf). Busy samples are those not in the
idle loop (dd keeps one of the two vCPUs busy); each column is its share of them. Kernel functions are
grouped by name (\`bench/lib/summarize-profile.ts\`); the raw counts are in \`bench/results/io_profile.json\`.

${markdownTable(head, rows)}

Most sampled functions (idle excluded):

${top}
`;
  updateReport("io_profile", body);
}

if (require.main === module) main();
