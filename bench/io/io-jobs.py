#!/usr/bin/env python3
"""The I/O jobs of bench/io, run inside the guest (over ssh, from stdin) or on the host.

usage: io-jobs.py TARGET DIR --files N --size-mib S --runtime R [--drop-caches | --host]

Modelled on the seed's performance suite (molecule/shared/suites/performance.yml): fio with the psync
engine, buffered I/O, queue depth 1 - sequential 1 MiB write/read, random 4 KiB read/write, 4 KiB
random-read latency, small files - plus 4 parallel random readers and a metadata loop (create with
1 KiB of data, stat, delete of N files, one directory). Prints one JSON object per job on stdout.

--drop-caches (guest targets): sync and drop the guest's page, dentry and inode caches before each
read job, so reads leave the guest; the host page cache stays warm for every target.
--host (native target): fio must not evict the host page cache either (--invalidate=0), so every
target reads data the host has in RAM.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--size-mib", type=int, default=128)
    ap.add_argument("--runtime", type=int, default=5)
    ap.add_argument("--drop-caches", action="store_true")
    ap.add_argument("--host", action="store_true")
    a = ap.parse_args()

    d = os.path.join(a.dir, "io-" + a.target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    size = f"--size={a.size_mib}M"

    def drop() -> None:
        if a.drop_caches:
            subprocess.run(["sync"], check=True)
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")

    def emit(rec: dict) -> None:
        rec["target"] = a.target
        print(json.dumps(rec), flush=True)

    def fio(name: str, side: str, args: list, prep: bool = False) -> None:
        cmd = ["fio", f"--name={name}", f"--directory={d}", "--ioengine=psync", "--output-format=json", *args]
        if a.host:
            cmd.append("--invalidate=0")
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        if r.returncode != 0:
            emit({"job": name, "error": (r.stderr or r.stdout)[-500:]})
            return
        if prep:
            return
        j = json.loads(r.stdout[r.stdout.index("{"):])
        job = j["jobs"][0]
        s = job[side]
        clat = s.get("clat_ns", {})
        pct = clat.get("percentile", {})
        emit({
            "job": name,
            "bw_mib_s": s["bw_bytes"] / 2**20,
            "iops": s["iops"],
            "ios": s["total_ios"],
            "clat_mean_us": clat.get("mean", 0) / 1000,
            "clat_p50_us": pct.get("50.000000", 0) / 1000,
            "clat_p99_us": pct.get("99.000000", 0) / 1000,
            "runtime_ms": job.get("job_runtime", s.get("runtime", 0)),
            "wall_s": round(wall, 2),
        })

    rt = f"--runtime={a.runtime}"
    # sequential: write (fsync at the end), then read the same file with cold guest caches
    fio("seq-write", "write", ["--rw=write", "--bs=1M", size, "--end_fsync=1", "--filename=seq.dat"])
    drop()
    fio("seq-read", "read", ["--rw=read", "--bs=1M", size, "--filename=seq.dat"])
    # random: lay the file out first (untimed) so the read jobs do not read what fio just wrote
    fio("prep", "write", ["--rw=write", "--bs=1M", size, "--end_fsync=1", "--filename=rand.dat"], prep=True)
    drop()
    fio("rand-read", "read", ["--rw=randread", "--bs=4k", size, rt, "--time_based", "--filename=rand.dat"])
    drop()
    fio("rand-read-4jobs", "read", ["--rw=randread", "--bs=4k", size, rt, "--time_based", "--numjobs=4",
                                    "--group_reporting", "--filename=rand.dat"])
    fio("rand-write", "write", ["--rw=randwrite", "--bs=4k", size, rt, "--time_based", "--end_fsync=1",
                                "--filename=rand.dat"])
    drop()
    fio("latency", "read", ["--rw=randread", "--bs=4k", size, "--iodepth=1", f"--runtime={max(2, a.runtime - 2)}",
                            "--time_based", "--filename=rand.dat"])
    fio("small-files", "write", ["--rw=write", "--bs=4k", "--nrfiles=256", "--filesize=4k", "--size=1M",
                                 "--openfiles=16", "--create_on_open=1", "--filename_format=small.$filenum"])

    # metadata: create (1 KiB each), stat, delete N files in one directory
    md = os.path.join(d, "meta")
    os.makedirs(md)
    names = [os.path.join(md, "f%05d" % i) for i in range(a.files)]
    buf = b"x" * 1024
    out = {"job": "metadata", "files": a.files}
    t = time.perf_counter()
    for n in names:
        fd = os.open(n, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        os.write(fd, buf)
        os.close(fd)
    out["create_per_s"] = a.files / (time.perf_counter() - t)
    t = time.perf_counter()
    for n in names:
        os.stat(n)
    out["stat_per_s"] = a.files / (time.perf_counter() - t)
    t = time.perf_counter()
    for n in names:
        os.unlink(n)
    out["delete_per_s"] = a.files / (time.perf_counter() - t)
    emit(out)

    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
