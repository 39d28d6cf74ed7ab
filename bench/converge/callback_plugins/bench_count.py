# Benchmark-only Ansible callback: counts what a playbook run executed and writes it as JSON to
# $BENCH_COUNT_FILE when the play ends.
#
#   module_executions   results of modules that ran on the managed host (one per loop item)
#   controller_actions  results of actions that run on the controller only (debug, set_fact, ...)
#   skipped             task or loop-item results that were skipped (nothing ran)
#   changed / failed    among the executed results
#   tasks               per task: name, action, executions, changed, skipped, seconds
#
# Modules an action plugin runs internally (e.g. `package` asking `setup` for ansible_pkg_mgr) are
# invisible to callbacks; the SSH command count from the -vvv log (bench/converge/run.sh) covers them.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_count
    type: aggregate
    short_description: counts module executions per task (benchmark use only)
    description: Writes counts to the file named by BENCH_COUNT_FILE.
    requirements: [enabled in callbacks_enabled]
"""

CONTROLLER_ONLY = {
    "debug", "set_fact", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role",
    "import_role", "include_vars", "add_host", "group_by", "pause", "set_stats", "validate_argument_spec",
}


def _short(action: str) -> str:
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.t0 = time.monotonic()
        self.tasks: dict[str, dict] = {}
        self.order: list[str] = []
        self.totals = {"module_executions": 0, "controller_actions": 0, "skipped": 0, "changed": 0,
                       "failed": 0, "unreachable": 0}

    def _task(self, task):
        key = task._uuid
        if key not in self.tasks:
            action = _short(getattr(task, "resolved_action", None) or task.action)
            self.tasks[key] = {"name": task.get_name(), "action": action, "executions": 0, "changed": 0,
                               "skipped": 0, "failed": 0, "start": time.monotonic(), "seconds": 0.0,
                               "controller": action in CONTROLLER_ONLY}
            self.order.append(key)
        return self.tasks[key]

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)["start"] = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task)["start"] = time.monotonic()

    def _record(self, task, res, status):
        rec = self._task(task)
        rec["seconds"] = round(time.monotonic() - rec["start"], 3)
        if status == "skipped":
            rec["skipped"] += 1
            self.totals["skipped"] += 1
            return
        rec["executions"] += 1
        self.totals["controller_actions" if rec["controller"] else "module_executions"] += 1
        if status == "failed":
            rec["failed"] += 1
            self.totals["failed"] += 1
        elif res.get("changed"):
            rec["changed"] += 1
            self.totals["changed"] += 1

    @staticmethod
    def _is_loop(task) -> bool:
        return bool(getattr(task, "loop", None) or getattr(task, "loop_with", None))

    # non-loop results (a loop's aggregate result is skipped: its items were counted one by one)
    def v2_runner_on_ok(self, result):
        if self._is_loop(result._task) and "results" in result._result:
            self._task(result._task)["seconds"] = round(time.monotonic() - self._task(result._task)["start"], 3)
            return
        self._record(result._task, result._result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self._is_loop(result._task) and "results" in result._result:
            return
        self._record(result._task, result._result, "failed")

    def v2_runner_on_skipped(self, result):
        if self._is_loop(result._task) and "results" in result._result:
            return
        self._record(result._task, result._result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self.totals["unreachable"] += 1

    def v2_runner_item_on_ok(self, result):
        self._record(result._task, result._result, "ok")

    def v2_runner_item_on_failed(self, result):
        self._record(result._task, result._result, "failed")

    def v2_runner_item_on_skipped(self, result):
        self._record(result._task, result._result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_COUNT_FILE")
        if not path:
            return
        tasks = []
        for key in self.order:
            rec = dict(self.tasks[key])
            rec.pop("start", None)
            tasks.append(rec)
        out = dict(self.totals)
        out["tasks_with_results"] = sum(1 for t in tasks if t["executions"] or t["skipped"])
        out["callback_seconds"] = round(time.monotonic() - self.t0, 3)
        out["tasks"] = tasks
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(out, fh, separators=(",", ":"))
