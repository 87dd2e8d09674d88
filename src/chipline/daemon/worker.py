"""The worker pool: long-lived processes, one job each at a time, so a segfault or a hang in
native code costs one job, never the daemon.

Each slot owns a process and a pipe. The daemon sends (job_id, midi_path, staging_dir, name);
the worker runs `job(midi_path, staging_dir, name)` and answers with an `Outcome`. A process that
dies mid-job, or runs past its timeout (then it is killed), answers for it with a crash outcome and
is replaced. Spawn-safe: the job must be a picklable module-level callable (or a partial of one).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from chipline.daemon.platform import ignore_stop_signals
from chipline.errors import BridgeError

logger = logging.getLogger(__name__)

Job = Callable[[Path, Path, str], list[Path]]
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Outcome:
    """What became of one try. `transient` failures are retried; `log_tail` is for error.txt."""

    job_id: int
    ok: bool
    run_sec: float
    outputs: tuple[str, ...] = ()
    reason: str = ""
    transient: bool = False
    log_tail: str = ""


def is_transient(e: BaseException) -> bool:
    """Renderer time-outs and hiccups (a transient BridgeError, TimeoutError, a full disk) are
    retried; a REAPER template without its voice tracks is not."""
    import errno

    if isinstance(e, BridgeError):
        return e.transient
    if isinstance(e, TimeoutError):
        return True
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EAGAIN, errno.EBUSY)


class _TailHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _exit_with_parent() -> None:
    """Exit this worker as soon as the daemon process is gone (even after `kill -9`)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_one(job: Job, tail: _TailHandler, request: tuple[int, str, str, str]) -> Outcome:
    job_id, midi, staging, name = request
    tail.lines.clear()
    start = time.perf_counter()
    try:
        outputs = job(Path(midi), Path(staging), name)
        rel = tuple(os.path.relpath(p, staging) for p in outputs)
        return Outcome(job_id, True, time.perf_counter() - start, outputs=rel)
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
        tb = traceback.format_exc(limit=8)
        log = "\n".join([*tail.lines, tb.rstrip()])
        run_sec = time.perf_counter() - start
        return Outcome(
            job_id, False, run_sec, reason=reason, transient=is_transient(e), log_tail=log
        )


def worker_main(conn: Connection, job: Job) -> None:
    """A worker process: run requests from `conn` until it closes or sends None."""
    ignore_stop_signals()
    _exit_with_parent()
    tail = _TailHandler()
    logging.getLogger().addHandler(tail)
    logging.getLogger().setLevel(logging.INFO)
    prepare = getattr(job, "prepare", None)
    if callable(prepare):
        prepare()  # e.g. import the renderer now rather than inside the first job
    conn.send("ready")  # job timeouts count from here, not from a slow start
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            conn.send(_run_one(job, tail, request))
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    job_id: int | None = None
    ready: bool = False
    started: float = 0.0
    deadline: float = 0.0


class WorkerPool:
    """`num_workers` processes running `job`; `poll()` collects finished, crashed, timed-out."""

    def __init__(self, job: Job, num_workers: int, timeout_sec: float) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._job = job
        self.timeout_sec = timeout_sec
        self._slots = [self._spawn() for _ in range(num_workers)]

    def _spawn(self) -> _Slot:
        parent_conn, child_conn = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=worker_main, args=(child_conn, self._job), name="chipline-worker", daemon=True
        )
        proc.start()
        child_conn.close()
        return _Slot(proc, parent_conn)

    def idle(self) -> int:
        """Workers started and waiting for a job."""
        return sum(1 for s in self._slots if s.ready and s.job_id is None)

    def busy_jobs(self) -> list[int]:
        return [s.job_id for s in self._slots if s.job_id is not None]

    def submit(self, job_id: int, midi: Path, staging: Path, name: str) -> None:
        """Give a job to an idle worker (call only when `idle()` > 0)."""
        slot = next(s for s in self._slots if s.ready and s.job_id is None)
        now = time.monotonic()
        slot.job_id, slot.started, slot.deadline = job_id, now, now + self.timeout_sec
        # If the idle worker died meanwhile, poll() reports the job as crashed and replaces it.
        with contextlib.suppress(OSError):
            slot.conn.send((job_id, os.fspath(midi), os.fspath(staging), name))

    def poll(self, timeout_sec: float) -> list[Outcome]:
        """Wait up to `timeout_sec` for results; also reap crashed and timed-out workers."""
        waitables: list[object] = [
            s.conn for s in self._slots if s.job_id is not None or not s.ready
        ]
        waitables += [s.process.sentinel for s in self._slots]
        ready = set(wait(waitables, timeout=timeout_sec)) if waitables else set()  # type: ignore[arg-type]
        outcomes = []
        for slot in list(self._slots):
            outcome = self._check(slot, ready)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _check(self, slot: _Slot, ready: set[Any]) -> Outcome | None:
        job_id = slot.job_id
        if slot.conn in ready:
            try:
                message = slot.conn.recv()
            except (EOFError, OSError):
                message = None  # died while answering: handled as a crash below
            if message == "ready":
                slot.ready = True
            elif isinstance(message, Outcome):
                slot.job_id = None
                return message
        run_sec = time.monotonic() - slot.started
        if job_id is not None and time.monotonic() > slot.deadline:
            self._replace(slot)
            reason = f"timed out after {self.timeout_sec:g} s (worker killed)"
            return Outcome(job_id, False, run_sec, reason=reason, transient=True)
        if not slot.process.is_alive():
            code = slot.process.exitcode
            self._replace(slot)
            if job_id is not None:
                return Outcome(
                    job_id, False, run_sec, reason=f"worker crashed ({_exit_text(code)})"
                )
        return None

    def _replace(self, slot: _Slot) -> None:
        self._stop_process(slot, kill=True)
        fresh = self._spawn()
        slot.process, slot.conn, slot.job_id, slot.ready = fresh.process, fresh.conn, None, False

    def _stop_process(self, slot: _Slot, *, kill: bool) -> None:
        if kill and slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=10)
        slot.conn.close()

    def stop(self) -> list[int]:
        """Kill every worker now; return the ids of the jobs they were running."""
        interrupted = self.busy_jobs()
        for slot in self._slots:
            if slot.job_id is None:
                with contextlib.suppress(OSError):
                    slot.conn.send(None)
        for slot in self._slots:
            self._stop_process(slot, kill=slot.job_id is not None)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=10)
        self._slots = []
        return interrupted


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
