"""Which files the daemon takes, and when a file counts as complete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from daemon_helpers import wait_until

from chipline.daemon.watch import InboxWatcher, StabilityTracker, is_candidate, scan


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("song.mid", True),
        ("SONG.MID", True),
        ("a.Midi", True),
        (".hidden.mid", False),
        ("~$song.mid", False),
        ("song.mid.part", False),
        ("song.mid.tmp", False),
        ("song.mid~", False),
        ("song.txt", False),
        ("song.mid.crdownload", False),
    ],
)
def test_candidates(name: str, taken: bool) -> None:
    assert is_candidate(Path(name)) is taken


def test_scan_lists_only_candidate_files_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "x.mid").write_bytes(b"x")
    (tmp_path / "a.mid").write_bytes(b"x")
    (tmp_path / ".b.mid").write_bytes(b"x")
    (tmp_path / "dir.mid").mkdir()
    assert scan(tmp_path) == [tmp_path / "a.mid"]


def test_a_growing_file_is_not_ready_until_it_stops_changing(tmp_path: Path) -> None:
    path = tmp_path / "a.mid"
    path.write_bytes(b"MThd")
    tracker = StabilityTracker(stable_sec=0.0)
    tracker.note(path)
    assert tracker.ready() == []  # first look: nothing to compare with yet
    with open(path, "ab") as f:
        f.write(b"more")
    assert tracker.ready() == []  # it changed since the last look
    assert tracker.ready() == [path]
    assert len(tracker) == 0


def test_a_quiet_file_waits_for_stable_sec(tmp_path: Path) -> None:
    path = tmp_path / "a.mid"
    path.write_bytes(b"MThd")
    tracker = StabilityTracker(stable_sec=3600)
    tracker.note(path)
    assert tracker.ready() == []
    assert tracker.ready() == []
    tracker.note(path, closed=True)  # close-after-write shortens the wait
    wait_until(lambda: tracker.ready() == [path], 5, "the closed file")


def test_a_vanished_file_is_forgotten(tmp_path: Path) -> None:
    tracker = StabilityTracker(stable_sec=0.0)
    tracker.note(tmp_path / "gone.mid")
    assert tracker.ready() == []
    assert len(tracker) == 0


def test_the_observer_reports_created_and_moved_in_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "elsewhere.mid"
    outside.write_bytes(b"x")
    seen: set[Path] = set()
    with InboxWatcher(inbox) as watcher:
        (inbox / "new.mid").write_bytes(b"x")
        (inbox / "ignored.txt").write_bytes(b"x")
        os.replace(outside, inbox / "moved.mid")

        def both() -> bool:
            seen.update(p for p, _ in watcher.drain())
            return {inbox / "new.mid", inbox / "moved.mid"} <= seen

        wait_until(both, 10, "events for new.mid and moved.mid")
    assert inbox / "ignored.txt" not in seen
