"""Fault injection: `kill -9` the daemon process at random points of a batch, again and again."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from daemon_batch import Batch, check_delivered, pick
from daemon_helpers import (
    LIGHT_RENDER_TOML,
    PYTHON,
    counts,
    env_with_tests_path,
    settled,
    wait_until,
)

from chipline.daemon import Layout
from chipline.daemon.platform import read_pid
from conftest import shared_data

NUM_KILLS = 10


def start(layout: Layout, config: Path) -> subprocess.Popen[bytes]:
    """`chipline watch` with the real renderer, as a user runs it (its log kept for failures)."""
    cmd = [PYTHON, "-m", "chipline", "watch", str(layout.inbox), "--out", str(layout.out_dir)]
    cmd += ["--workers", "2", "--config", str(config)]
    with open(layout.inbox.parent / "watch.log", "ab") as log:
        return subprocess.Popen(cmd, env=env_with_tests_path(), stdout=log, stderr=log)


def children(pid: int) -> set[int]:
    """Child pids of `pid` (Linux /proc); empty where the OS does not tell."""
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(int(x) for x in path.read_text().split())
    return found


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def running(layout: Layout, pid: int) -> bool:
    """The daemon `pid` holds the inbox's lock and has started worker processes."""
    return read_pid(layout.state_dir) == pid and (bool(children(pid)) or not Path("/proc").exists())


def finished(layout: Layout) -> int:
    if not (layout.state_dir / "queue.sqlite3").exists():
        return 0
    c = counts(layout)
    return c["done"] + c["failed"]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_kill_9_at_random_points_delivers_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(4)
    edge = shared_data("midi-edge-cases", "midi")
    batch, sources = pick(shared_data("midi", "folk"), edge, num_good=40, num_slow=0)
    config = tmp_path / "chipline.toml"
    config.write_text(LIGHT_RENDER_TOML)
    layout = Layout(tmp_path / "inbox", tmp_path / "out")
    layout.inbox.mkdir()
    names = list(sources)
    rng.shuffle(names)
    waves = [names[i::4] for i in range(4)]  # dropped while running and while down
    for name in waves[0]:
        shutil.copyfile(sources[name], layout.inbox / name)
    total = len(names)
    at_kill: list[int] = []
    for round_ in range(NUM_KILLS):
        if round_ < len(waves) - 1:
            for name in waves[round_ + 1]:
                shutil.copyfile(sources[name], layout.inbox / name)
        proc = start(layout, config)
        try:
            before = finished(layout)
            target = min(before + rng.randint(1, 6), total)
            wait_until(lambda t=target: finished(layout) >= t, 60, f"{target} finished jobs")
            # Late rounds may find nothing left to do: wait until this daemon is up (it holds
            # the lock, so its stop handler is installed) with its workers started.
            wait_until(lambda p=proc.pid: running(layout, p), 60, "the daemon and its workers")
            workers = children(proc.pid)
            # Not synchronisation: the kill lands at a random moment after that (mid-render,
            # mid-delivery, mid-move, or idle).
            time.sleep(rng.random() * 0.3)
            at_kill.append(counts(layout)["working"])
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # Orphaned workers notice their parent is gone and exit (no half-written leftovers).
        assert workers or not Path("/proc").exists()
        wait_until(lambda w=workers: all(gone(p) for p in w), 30, "orphaned workers to exit")
    proc = start(layout, config)
    try:
        wait_until(lambda: running(layout, proc.pid), 60, "the daemon and its workers")
        wait_until(lambda: settled(layout, total), 120, "the batch after the last restart")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sum(at_kill) > 0, "no kill landed while a job was running"
    assert not list(layout.staging_root.iterdir())
    check_delivered(layout, Batch(good=batch.good, broken=batch.broken), rendered=True)
    manifest = json.loads((layout.out_dir / "manifest.json").read_text())
    assert len(manifest["tracks"]) == len(batch.good)
