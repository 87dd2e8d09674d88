"""`DaemonConfig`: how the watch daemon waits, retries, times out and names its outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DaemonConfig:
    """Settings of `chipline watch` (TOML table `[watch]`; CLI flags override it).

    Attributes:
        num_workers: worker processes; 0 means one per CPU core.
        stable_sec: a file is read once its size and mtime have not changed for this long
            (or sooner, after a close-after-write event where the OS reports one).
        poll_sec: how often the main loop checks files, workers and signals.
        rescan_sec: a full inbox scan this often, catching events the OS dropped; 0 disables.
        job_timeout_sec: a job running longer is killed and counts as a transient failure.
        max_attempts: tries per job for transient failures (timeouts, renderer hiccups).
        backoff_sec: wait before the 2nd try; doubles per try, capped at `backoff_max_sec`.
        backoff_max_sec: the longest wait between tries.
        skip_duplicates: a file whose content was already rendered goes straight to `done/`
            without rendering again.
        overwrite: a new version of a file reuses its output name instead of getting a new one.
        shutdown_grace_sec: on SIGTERM/SIGINT, running jobs get this long to finish before
            they are stopped and re-queued.
        refresh_sec: while a batch drains, the output folder's manifest is rebuilt at most this
            often (and always once the queue is idle).
    """

    num_workers: int = 0
    stable_sec: float = 1.0
    poll_sec: float = 0.05
    rescan_sec: float = 30.0
    job_timeout_sec: float = 300.0
    max_attempts: int = 3
    backoff_sec: float = 2.0
    backoff_max_sec: float = 60.0
    skip_duplicates: bool = True
    overwrite: bool = False
    shutdown_grace_sec: float = 10.0
    refresh_sec: float = 10.0

    def workers(self) -> int:
        """The worker count to start: `num_workers`, or the number of CPU cores when 0."""
        return self.num_workers if self.num_workers > 0 else max(1, os.cpu_count() or 1)

    def backoff_for(self, num_failed: int) -> float:
        """Seconds to wait before the next try after `num_failed` failed tries (≥ 1)."""
        return float(min(self.backoff_max_sec, self.backoff_sec * 2 ** max(0, num_failed - 1)))
