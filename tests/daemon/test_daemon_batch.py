"""A batch of real MIDI files, broken ones and files still being written, end to end."""

from __future__ import annotations

import dataclasses
import json

import pytest
from daemon_batch import PartialWatcher, check_delivered, drop_all, pick
from daemon_helpers import FAST, real_render_job, running_daemon, settled, wait_until
from daemon_jobs import validating_job

from chipline.daemon import Layout
from chipline.daemon.jobs import manifest_refresher
from conftest import shared_data

BATCH_CONFIG = dataclasses.replace(FAST, stable_sec=0.3)


def run_batch(tmp_path, num_good: int, num_slow: int, num_broken: int, *, rendered: bool) -> None:
    edge = shared_data("midi-edge-cases", "midi")
    batch, sources = pick(shared_data("midi", "folk"), edge, num_good, num_slow, num_broken)
    layout = Layout(tmp_path / "inbox", tmp_path / "out")
    layout.inbox.mkdir()
    total = len(batch.good) + len(batch.broken)
    job, refresh = (real_render_job(), manifest_refresher()) if rendered else (validating_job, None)
    daemon = running_daemon(layout, job, BATCH_CONFIG, after_delivery=refresh)
    with PartialWatcher(layout.out_dir) as watcher, daemon:
        writers = drop_all(batch, sources, layout.inbox)
        for t in writers:
            t.join()
        wait_until(lambda: settled(layout, total), 30 + total * 0.5, f"{total} jobs")
    assert watcher.looks > 10
    assert watcher.problems == []
    check_delivered(layout, batch, rendered=rendered)
    if rendered:
        manifest = json.loads((layout.out_dir / "manifest.json").read_text())
        assert len(manifest["tracks"]) == len(batch.good)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_small_batch_with_the_real_renderer(tmp_path) -> None:
    run_batch(tmp_path, num_good=6, num_slow=2, num_broken=4, rendered=True)


@pytest.mark.timeout(60)
def test_batch_with_a_test_job(tmp_path) -> None:
    run_batch(tmp_path, num_good=20, num_slow=2, num_broken=6, rendered=False)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_batch_of_200_real_files_with_the_real_renderer(tmp_path) -> None:
    run_batch(tmp_path, num_good=200, num_slow=10, num_broken=1000, rendered=True)
