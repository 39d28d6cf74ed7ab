#!/usr/bin/env python3
"""Reads an ansible-playbook log (log_path, show_per_host_start) and prints, as JSON, when TASK started
and finished on each host: {"starts": {host: time}, "ends": {host: time}, "overlap": bool}. overlap
is true when every host started the task before any host finished it, i.e. they ran it in parallel.

usage: parallel.py LOG TASK-NAME-SUFFIX
"""
import json
import re
import sys
from datetime import datetime

STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"


def when(stamp):
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


def main(log, task):
    starts, ends = {}, {}
    in_task = False
    with open(log, encoding="utf-8") as f:
        for line in f:
            banner = re.search(r"TASK \[(.*)\] \*+", line)
            if banner:
                in_task = banner.group(1).endswith(task)
                continue
            m = re.search(STAMP + r".*\[started TASK: (.*) on ([^\]\s]+)\]", line)
            if m and m.group(2).endswith(task):
                starts[m.group(3)] = m.group(1)
                continue
            m = re.search(STAMP + r".*\b(ok|changed|failed|fatal): \[([^\]]+)\]", line)
            if m and in_task:
                ends.setdefault(m.group(3), m.group(1))
    overlap = bool(starts) and bool(ends) and max(when(s) for s in starts.values()) < min(when(e) for e in ends.values())
    print(json.dumps({"starts": starts, "ends": ends, "overlap": overlap}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
