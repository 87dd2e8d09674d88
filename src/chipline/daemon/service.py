"""The daemon's main loop: recover, watch, queue, dispatch to workers, deliver, stop cleanly.

Like mopidy's server: `run()` starts the parts in order and a `finally` stops them in reverse.
Only this process writes the queue and moves files; workers only render into staging folders.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chipline.daemon.config import DaemonConfig
from chipline.daemon.flow import Layout, deliver, finish, move_into, name_taken
from chipline.daemon.platform import InstanceLock, install_stop_handler, restore_handlers
from chipline.daemon.queue import JobQueue
from chipline.daemon.watch import InboxWatcher, StabilityTracker, scan
from chipline.daemon.worker import Job, Outcome, WorkerPool
from chipline.master.files import sha256_file
from chipline.master.names import safe_name

logger = logging.getLogger(__name__)

AfterDelivery = Callable[[Path], None]


class Daemon:
    """Watches `layout.inbox` and renders each complete MIDI file exactly once with `job`.

    `after_delivery(out_dir)` runs in this process after finished jobs (at most once per loop
    turn), e.g. to rebuild the output folder's manifest.
    """

    def __init__(
        self,
        layout: Layout,
        config: DaemonConfig,
        job: Job,
        *,
        after_delivery: AfterDelivery | None = None,
    ) -> None:
        self.layout = layout
        self.config = config
        self.job = job
        self.after_delivery = after_delivery
        self._stop = threading.Event()
        self._queue: JobQueue | None = None
        self._tracker = StabilityTracker(config.stable_sec)
        self._dirty = False
        self._next_refresh = 0.0

    def request_stop(self, signum: int | None = None) -> None:
        """Stop taking new work; running jobs get `shutdown_grace_sec` to finish (thread- and
        signal-safe)."""
        if signum is not None:
            logger.info("signal %d received: finishing running jobs, then stopping", signum)
        self._stop.set()

    def run(self) -> None:
        """Run until `request_stop()`. Raises DaemonError if another daemon holds the inbox."""
        self.layout.make_dirs()
        with InstanceLock(self.layout.state_dir):
            self._queue = JobQueue(self.layout.state_dir)
            try:
                with InboxWatcher(self.layout.inbox) as watcher:
                    self._recover()
                    pool = WorkerPool(self.job, self.config.workers(), self.config.job_timeout_sec)
                    try:
                        self._loop(watcher, pool)
                    finally:
                        self._shutdown(pool)
            finally:
                self._queue.close()
                self._queue = None

    @property
    def queue(self) -> JobQueue:
        assert self._queue is not None, "the daemon is not running"
        return self._queue

    def _recover(self) -> None:
        """Re-queue jobs a killed daemon left running, finish half-done moves, adopt orphans."""
        requeued = self.queue.recover()
        shutil.rmtree(self.layout.staging_root, ignore_errors=True)
        self.layout.staging_root.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.layout.work.iterdir()):
            if not path.is_file():
                continue
            job = self.queue.latest_by_work_name(path.name)
            if job is None:
                self._enqueue(path, path.name)
            elif job.state in ("done", "failed", "skipped"):
                finish(self.layout, job)
        for path in scan(self.layout.inbox):
            self._tracker.note(path)
        if requeued:
            logger.info("re-queued %d job(s) interrupted by the last stop", requeued)

    def _loop(self, watcher: InboxWatcher, pool: WorkerPool) -> None:
        next_scan = time.monotonic() + self.config.rescan_sec
        while not self._stop.is_set():
            for path, closed in watcher.drain():
                self._tracker.note(path, closed)
            if self.config.rescan_sec > 0 and time.monotonic() >= next_scan:
                next_scan = time.monotonic() + self.config.rescan_sec
                for path in scan(self.layout.inbox):
                    self._tracker.note(path)
            for path in self._tracker.ready():
                self._guard(self._accept, path)
                if pool.idle():
                    self._dispatch(pool)  # start rendering while a big drop is still taken in
            self._dispatch(pool)
            self._collect(pool, self.config.poll_sec)

    def _collect(self, pool: WorkerPool, timeout_sec: float) -> None:
        outcomes = pool.poll(timeout_sec)
        if outcomes:
            self._dispatch(pool)  # refill the freed workers first, then the bookkeeping
        for outcome in outcomes:
            self._guard(self._handle, outcome)
        if self._dirty and self.after_delivery is not None:
            # Rebuilding the manifest reads every track record: at once when the queue is
            # idle, at most every `refresh_sec` while a batch drains (else a batch is O(n²)).
            idle = not pool.busy_jobs() and self.queue.next_ready(time.time()) is None
            if idle or time.monotonic() >= self._next_refresh:
                self._dirty = False
                self._next_refresh = time.monotonic() + self.config.refresh_sec
                self._guard(self.after_delivery, self.layout.out_dir)

    def _guard(self, fn: Callable[..., object], *args: object) -> None:
        """One failing step is logged and skipped; the daemon keeps running."""
        try:
            fn(*args)
        except Exception:
            logger.exception("daemon step %s%r failed; continuing", fn.__name__, args)

    def _accept(self, path: Path) -> None:
        try:
            work_path = move_into(path, self.layout.work)
        except FileNotFoundError:
            return  # moved away or deleted before we took it
        except PermissionError:
            self._tracker.note(path)  # still open elsewhere (Windows): try again later
            return
        self._enqueue(work_path, path.name)

    def _enqueue(self, work_path: Path, src_name: str) -> None:
        job = self.queue.add(
            src_name,
            work_path.name,
            sha256_file(work_path),
            stem=safe_name(Path(src_name).stem),
            skip_duplicates=self.config.skip_duplicates,
            overwrite=self.config.overwrite,
            name_taken=lambda name: name_taken(self.layout.out_dir, name),
        )
        if job.state == "skipped":
            finish(self.layout, job)
            logger.info("skipped %s: same content as job %s", src_name, job.duplicate_of)
        else:
            logger.debug("queued %s as job %d → %s", src_name, job.id, job.out_name)

    def _dispatch(self, pool: WorkerPool) -> None:
        while pool.idle() and not self._stop.is_set():
            job = self.queue.next_ready(time.time())
            if job is None:
                return
            staging = self.layout.staging(job.id)
            self.queue.start(job.id)
            try:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
            except OSError as e:  # e.g. the output folder is not writable (now)
                reason = f"cannot prepare {staging}: {e}"
                self._failed_try(job.id, Outcome(job.id, False, 0.0, reason=reason, transient=True))
                continue
            pool.submit(job.id, self.layout.work / job.work_name, staging, job.out_name)

    def _handle(self, outcome: Outcome) -> None:
        job = self.queue.get(outcome.job_id)
        if outcome.ok:
            try:
                delivered = deliver(
                    self.layout.staging(job.id), self.layout.out_dir, outcome.outputs
                )
            except OSError as e:
                reason = f"cannot deliver outputs: {e}"
                outcome = Outcome(job.id, False, outcome.run_sec, reason=reason, transient=True)
            else:
                self.queue.done(job.id, outcome.run_sec, delivered)
                finish(self.layout, self.queue.get(job.id))
                self._dirty = True
                logger.info(
                    "done %s → %s (%d files) %.2f s",
                    *(job.src_name, job.out_name, len(delivered), outcome.run_sec),
                )
                return
        self._failed_try(job.id, outcome)

    def _failed_try(self, job_id: int, outcome: Outcome) -> None:
        tries = self.queue.get(job_id).attempts + 1
        retry = outcome.transient and tries < self.config.max_attempts
        delay = self.config.backoff_for(tries) if retry else None
        job = self.queue.failed_try(
            job_id, outcome.reason, outcome.run_sec, delay, outcome.log_tail
        )
        if job.state == "failed":
            finish(self.layout, job)
            logger.warning(
                "failed %s after %d tries %.2f s: %s",
                *(job.src_name, job.attempts, outcome.run_sec, outcome.reason),
            )
        else:
            logger.warning(
                "retrying %s in %.1f s (try %d failed: %s)",
                *(job.src_name, delay or 0.0, tries, outcome.reason),
            )

    def _shutdown(self, pool: WorkerPool) -> None:
        deadline = time.monotonic() + self.config.shutdown_grace_sec
        while pool.busy_jobs() and time.monotonic() < deadline:
            self._collect(pool, min(0.1, max(0.0, deadline - time.monotonic())))
        for job_id in pool.stop():
            self.queue.requeue(job_id)
            logger.info("re-queued job %d: stopped before it finished", job_id)


def serve(daemon: Daemon) -> None:
    """Run `daemon` in the foreground until SIGINT/SIGTERM (SIGBREAK on Windows)."""
    previous = install_stop_handler(daemon.request_stop)
    try:
        daemon.run()
    finally:
        restore_handlers(previous)
