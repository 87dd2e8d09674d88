"""Folder flow: free names, atomic delivery, done/failed moves, the lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chipline.daemon.flow import Layout, deliver, finish, free_name, name_taken
from chipline.daemon.platform import InstanceLock, is_locked, read_pid
from chipline.daemon.queue import JobQueue
from chipline.errors import DaemonError


def test_free_name_adds_a_counter(tmp_path: Path) -> None:
    assert free_name(tmp_path, "a.mid") == "a.mid"
    (tmp_path / "a.mid").write_bytes(b"")
    (tmp_path / "a-2.mid").write_bytes(b"")
    assert free_name(tmp_path, "a.mid") == "a-3.mid"


def test_name_taken_sees_outputs_and_manifest_entries(tmp_path: Path) -> None:
    (tmp_path / "x.ogg").write_bytes(b"")
    (tmp_path / ".chipline" / "tracks").mkdir(parents=True)
    (tmp_path / ".chipline" / "tracks" / "y.json").write_text("{}")
    assert name_taken(tmp_path, "x")
    assert name_taken(tmp_path, "y")
    assert not name_taken(tmp_path, "x-2")


def test_deliver_renames_audio_before_manifest_entries(tmp_path: Path) -> None:
    staging, out = tmp_path / "staging", tmp_path / "out"
    (staging / ".chipline" / "tracks").mkdir(parents=True)
    (staging / "t.ogg").write_bytes(b"ogg")
    (staging / ".chipline" / "tracks" / "t.json").write_text("{}")
    order = deliver(staging, out, (".chipline/tracks/t.json", "t.ogg"))
    assert order == ["t.ogg", ".chipline/tracks/t.json"]
    assert (out / "t.ogg").read_bytes() == b"ogg"
    assert (out / ".chipline" / "tracks" / "t.json").exists()
    assert not (staging / "t.ogg").exists()


def test_finish_moves_failures_with_an_error_file_and_never_deletes(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "inbox", tmp_path / "out")
    layout.make_dirs()
    (layout.failed / "bad.mid").write_bytes(b"older failure")
    (layout.work / "bad.mid").write_bytes(b"newer")
    q = JobQueue(layout.state_dir)
    job = q.add(
        "bad.mid", "bad.mid", "h", skip_duplicates=True, overwrite=False, name_taken=lambda n: False
    )
    job = q.failed_try(job.id, "MidiFileError: truncated", 0.01, None, "WARNING x: repaired")
    q.close()
    moved = finish(layout, job)
    assert moved == layout.failed / "bad-2.mid"
    assert moved.read_bytes() == b"newer"
    assert (layout.failed / "bad.mid").read_bytes() == b"older failure"
    text = (layout.failed / "bad-2.mid.error.txt").read_text()
    for expected in ("reason: MidiFileError: truncated", "attempts: 1", "WARNING x: repaired"):
        assert expected in text
    assert finish(layout, job) is None  # idempotent: already moved


def test_the_lock_names_its_holder(tmp_path: Path) -> None:
    state = tmp_path / ".chipline"
    assert not is_locked(state)
    with InstanceLock(state):
        assert is_locked(state)
        assert read_pid(state) == os.getpid()
        with pytest.raises(DaemonError, match=f"pid {os.getpid()}"):
            InstanceLock(state).acquire()
    assert not is_locked(state)
    assert read_pid(state) is None
