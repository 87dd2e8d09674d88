"""Helpers for daemon tests: tiny MIDI files, waiting on conditions, a daemon in a thread."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mido

from chipline.daemon import Daemon, DaemonConfig, Layout
from chipline.daemon.queue import JobQueue

HERE = Path(__file__).resolve().parent

# Short enough that unit tests run quickly; long enough for a file to be read once.
FAST = DaemonConfig(
    num_workers=1,
    stable_sec=0.2,
    poll_sec=0.02,
    backoff_sec=0.05,
    job_timeout_sec=5.0,
    shutdown_grace_sec=5.0,
)


def midi_bytes(seed: int, num_notes: int = 4) -> bytes:
    """A valid one-track MIDI file whose notes depend on `seed` (different seeds, different
    bytes)."""
    mid = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for i in range(num_notes):
        pitch = 40 + (seed * 7 + i * 5) % 40
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=0 if i == 0 else 12))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=48 + seed % 13))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def wait_until(predicate: Callable[[], object], timeout_sec: float, what: str) -> None:
    """Poll `predicate` until true; fail the test naming `what` after `timeout_sec`."""
    deadline = time.monotonic() + timeout_sec
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_sec} s waiting for {what}")
        time.sleep(0.02)


def counts(layout: Layout) -> dict[str, int]:
    q = JobQueue(layout.state_dir)
    try:
        return q.counts()
    finally:
        q.close()


def settled(layout: Layout, expected_finished: int) -> bool:
    """All jobs finished (nothing queued/working) and at least `expected_finished` of them."""
    if not (layout.state_dir / "queue.sqlite3").exists():
        return False
    c = counts(layout)
    finished = c["done"] + c["failed"] + c["skipped"]
    return c["queued"] == 0 and c["working"] == 0 and finished >= expected_finished


@contextmanager
def running_daemon(
    layout: Layout,
    job: Callable[[Path, Path, str], list[Path]],
    config: DaemonConfig = FAST,
    after_delivery: Callable[[Path], object] | None = None,
) -> Iterator[Daemon]:
    """Run a Daemon in a thread (signals stay with the test); stop and join it on exit."""
    daemon = Daemon(layout, config, job, after_delivery=after_delivery)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            daemon.run()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=target, name="daemon-under-test")
    thread.start()
    try:
        wait_until(lambda: daemon._queue is not None or errors, 10, "the daemon to start")
        yield daemon
    finally:
        daemon.request_stop()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the daemon did not stop"
    if errors:
        raise errors[0]


def env_with_tests_path() -> dict[str, str]:
    """Environment for a `python -m chipline` subprocess that can import daemon_jobs."""
    import os

    src = HERE.parents[1] / "src"
    parts = [str(src), str(HERE), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in parts if p)}


PYTHON = sys.executable


def real_render_job() -> Callable[[Path, Path, str], list[Path]]:
    """The daemon's default job with the real renderer, made light for tests: WAV only, a low
    sample rate, no piano roll (the checks are about delivery, not sound)."""
    from chipline.daemon.jobs import RenderJob
    from chipline.render import RenderConfig

    return RenderJob(RenderConfig(formats=("wav",), pianoroll=False, sample_rate=8000))


LIGHT_RENDER_TOML = """
[watch]
stable_sec = 0.2
[render]
formats = ["wav"]
pianoroll = false
sample_rate = 8000
"""
