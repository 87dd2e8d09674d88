"""`chipline status`: counts per state, recent failures, throughput, and whether a daemon runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chipline.daemon.platform import is_locked, read_pid
from chipline.daemon.queue import DB_NAME, JobQueue

WINDOW_SEC = 600.0


def inbox_status(inbox: Path, num_failures: int = 5) -> dict[str, Any]:
    """A JSON-ready summary of the inbox's queue (an empty one where no daemon ever ran)."""
    state_dir = inbox / ".chipline"
    running = is_locked(state_dir)
    report: dict[str, Any] = {
        "inbox": str(inbox),
        "running": running,
        "pid": read_pid(state_dir) if running else None,
        "counts": {},
        "failures": [],
        "finished_last_10_min": 0,
        "per_min": 0.0,
    }
    if not (state_dir / DB_NAME).exists():
        return report
    queue = JobQueue(state_dir, readonly=True)
    try:
        report["counts"] = queue.counts()
        report["failures"] = [
            {"file": j.src_name, "reason": j.error, "attempts": j.attempts, "at": j.finished_sec}
            for j in queue.last_failures(num_failures)
        ]
        finished = queue.finished_since(time.time() - WINDOW_SEC)
    finally:
        queue.close()
    report["finished_last_10_min"] = finished
    report["per_min"] = round(finished / (WINDOW_SEC / 60.0), 2)
    return report


def format_status(report: dict[str, Any]) -> list[str]:
    """The report as short human lines."""
    who = f"running (pid {report['pid']})" if report["running"] else "not running"
    counts = ", ".join(f"{n} {s}" for s, n in report["counts"].items()) or "no jobs yet"
    lines = [
        f"{report['inbox']}: daemon {who}",
        f"jobs: {counts}",
        f"throughput: {report['finished_last_10_min']} finished in the last 10 min "
        f"({report['per_min']:.1f}/min)",
    ]
    for f in report["failures"]:
        lines.append(f"failed: {f['file']} ({f['attempts']} tries): {f['reason']}")
    return lines
