#!/usr/bin/env python3
"""Sample where an emulated guest's vCPUs are, from the host, with nothing installed in the guest.

    guest-profile.py QMP_SOCKET KALLSYMS SECONDS HZ OUT_JSON

Asks QEMU over QMP (HMP `info registers -a`) for every vCPU's RIP, HZ times a second for SECONDS,
and names each kernel address with the guest's own /proc/kallsyms (read as root, so KASLR is already
applied). A guest with perf would need the package in its image and a PMU TCG does not emulate; the
monitor sees the emulated CPU state directly. Each sample stops the vCPUs for a moment, so the
figures are shares of samples, not times. Writes {"samples": N, "functions": [[name, count], ...],
"user": N, "unknown": N} and prints the top 15.
"""
import bisect
import json
import re
import socket
import sys
import time


def qmp(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    f = s.makefile("rwb")

    def call(cmd, **args):
        f.write(json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(msg["error"])

    json.loads(f.readline())  # greeting
    call("qmp_capabilities")
    return call


def load_symbols(path):
    addrs, names = [], []
    with open(path) as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3 or parts[1].lower() not in ("t", "w"):
                continue
            a = int(parts[0], 16)
            if a == 0:
                continue
            addrs.append(a)
            names.append(parts[2])
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def main():
    sock, kallsyms, seconds, hz, out = sys.argv[1:6]
    addrs, names = load_symbols(kallsyms)
    if not addrs:
        sys.exit("%s lists no text symbols (read it as root)" % kallsyms)
    call = qmp(sock)
    counts, user, unknown, total = {}, 0, 0, 0
    deadline = time.monotonic() + float(seconds)
    period = 1.0 / float(hz)
    while time.monotonic() < deadline:
        text = call("human-monitor-command", **{"command-line": "info registers -a"})
        for rip in re.findall(r"RIP=([0-9a-f]{16})", text):
            total += 1
            a = int(rip, 16)
            if a < 0xFFFF800000000000:
                user += 1
                continue
            i = bisect.bisect_right(addrs, a) - 1
            if i < 0:
                unknown += 1
                continue
            counts[names[i]] = counts.get(names[i], 0) + 1
        time.sleep(period)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    with open(out, "w") as fh:
        json.dump({"samples": total, "user": user, "unknown": unknown, "functions": top}, fh, indent=1)
    for name, n in top[:15]:
        print("%6.1f %%  %s" % (100.0 * n / max(total, 1), name))
    print("%6.1f %%  (user space)  of %d samples" % (100.0 * user / max(total, 1), total))


if __name__ == "__main__":
    main()
