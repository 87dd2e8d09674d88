"""The daemon end to end in one process (workers are real processes running test jobs)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from daemon_helpers import FAST, counts, midi_bytes, running_daemon, settled, wait_until
from daemon_jobs import mixed_job, ok_job, read_output

from chipline.daemon import Daemon, Layout, service
from chipline.daemon.flow import deliver
from chipline.daemon.queue import JobQueue
from chipline.errors import DaemonError
from chipline.master.files import sha256_file

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Layout(inbox, tmp_path / "out")


def drop(layout: Layout, name: str, data: bytes) -> Path:
    """Write a file the way careful tools do: a temp name, then a rename into the inbox."""
    tmp = layout.inbox / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, layout.inbox / name)
    return layout.inbox / name


def outputs(layout: Layout) -> dict[str, str | None]:
    return {p.name: read_output(p) for p in layout.out_dir.glob("*.out")}


def test_good_and_bad_files_end_in_done_and_failed(layout: Layout) -> None:
    names = {"a.mid": 1, "B.MIDI": 2, "c.Mid": 3}
    with running_daemon(layout, mixed_job):
        for name, seed in names.items():
            drop(layout, name, midi_bytes(seed))
        drop(layout, "bad-one.mid", midi_bytes(9))
        drop(layout, "notes.txt", b"not midi")
        drop(layout, "~$lock.mid", midi_bytes(10))
        wait_until(lambda: settled(layout, 4), 20, "four jobs to finish")
    assert sorted(p.name for p in layout.done.iterdir()) == sorted(names)
    assert sorted(p.name for p in layout.failed.iterdir()) == [
        "bad-one.mid",
        "bad-one.mid.error.txt",
    ]
    error = (layout.failed / "bad-one.mid.error.txt").read_text()
    assert "RenderError" in error
    assert "cannot render this file" in error
    assert "attempts: 1" in error
    found = outputs(layout)
    assert set(found) == {"a.out", "B.out", "c.out"}
    for name in names:
        stem = Path(name).stem
        assert found[f"{stem}.out"] == sha256_file(layout.done / name), name
        assert (layout.out_dir / ".chipline" / "tracks" / f"{stem}.json").exists()
    assert (layout.inbox / "notes.txt").exists()
    assert (layout.inbox / "~$lock.mid").exists()
    assert not list(layout.staging_root.iterdir())
    assert not list(layout.work.iterdir())


def test_crashes_and_hangs_fail_one_job_and_the_daemon_goes_on(layout: Layout) -> None:
    config = dataclasses.replace(FAST, num_workers=2, job_timeout_sec=0.6, max_attempts=2)
    with running_daemon(layout, mixed_job, config):
        for i, name in enumerate(["segv-1.mid", "abort-1.mid", "hang-1.mid", "ok-1.mid"]):
            drop(layout, name, midi_bytes(20 + i))
        wait_until(lambda: settled(layout, 4), 30, "crashing jobs to finish")
        drop(layout, "ok-2.mid", midi_bytes(30))
        wait_until(lambda: settled(layout, 5), 20, "a job after the crashes")
    assert sorted(p.name for p in layout.done.iterdir()) == ["ok-1.mid", "ok-2.mid"]
    errors = {p.name: p.read_text() for p in layout.failed.glob("*.error.txt")}
    assert "killed by SIGSEGV" in errors["segv-1.mid.error.txt"]
    assert "killed by SIGABRT" in errors["abort-1.mid.error.txt"]
    hang = errors["hang-1.mid.error.txt"]
    assert "timed out after 0.6 s" in hang
    assert "attempts: 2" in hang


def test_transient_failures_are_retried_permanent_ones_are_not(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deliver_denied(staging: Path, out_dir: Path, outputs: tuple[str, ...]) -> list[str]:
        if any(rel.startswith("locked") for rel in outputs):
            raise PermissionError(13, "Permission denied", str(out_dir / outputs[0]))
        return deliver(staging, out_dir, outputs)

    monkeypatch.setattr(service, "deliver", deliver_denied)
    config = dataclasses.replace(FAST, max_attempts=3)
    with running_daemon(layout, mixed_job, config):
        names = ["flaky-1.mid", "full-1.mid", "denied-1.mid", "locked.mid", "template-1.mid"]
        for i, name in enumerate(names):
            drop(layout, name, midi_bytes(40 + i))
        wait_until(lambda: settled(layout, 5), 20, "retries to finish")
    assert [p.name for p in layout.done.iterdir()] == ["flaky-1.mid"]
    locked = (layout.failed / "locked.mid.error.txt").read_text()
    assert "cannot deliver outputs" in locked
    assert "attempts: 3" in locked
    full = (layout.failed / "full-1.mid.error.txt").read_text()
    assert "No space left on device" in full
    assert "attempts: 3" in full
    denied = (layout.failed / "denied-1.mid.error.txt").read_text()
    assert "Permission denied" in denied
    assert "attempts: 1" in denied
    template = (layout.failed / "template-1.mid.error.txt").read_text()
    assert "no track named 'Pulse 1'" in template
    assert "attempts: 1" in template  # a broken template is not retried
    assert outputs(layout) == {"flaky-1.out": sha256_file(layout.done / "flaky-1.mid")}


def test_same_content_is_not_rendered_twice_and_new_versions_get_new_names(layout: Layout) -> None:
    with running_daemon(layout, ok_job):
        drop(layout, "song.mid", midi_bytes(1))
        wait_until(lambda: settled(layout, 1), 20, "the first version")
        drop(layout, "copy.mid", midi_bytes(1))  # same content, other name: skipped
        wait_until(lambda: settled(layout, 2), 20, "the copy")
        drop(layout, "song.mid", midi_bytes(2))  # new version, same name: new output name
        wait_until(lambda: settled(layout, 3), 20, "the second version")
    c = counts(layout)
    assert (c["done"], c["skipped"]) == (2, 1)
    found = outputs(layout)
    assert set(found) == {"song.out", "song-2.out"}
    assert found["song.out"] != found["song-2.out"]
    assert sorted(p.name for p in layout.done.iterdir()) == ["copy.mid", "song-2.mid", "song.mid"]


def test_files_dropped_while_down_and_jobs_left_working_are_finished(layout: Layout) -> None:
    layout.make_dirs()
    drop(layout, "early.mid", midi_bytes(5))
    # A daemon killed mid-job leaves a `working` row and its file in work/; an orphan file in
    # work/ (killed between the move and the insert) has no row at all.
    (layout.work / "left.mid").write_bytes(midi_bytes(6))
    (layout.work / "orphan.mid").write_bytes(midi_bytes(7))
    (layout.staging_root / "99").mkdir(parents=True)
    (layout.staging_root / "99" / "half.out").write_bytes(b"partial")
    q = JobQueue(layout.state_dir)
    job = q.add(
        "left.mid",
        "left.mid",
        sha256_file(layout.work / "left.mid"),
        skip_duplicates=True,
        overwrite=False,
        name_taken=lambda n: False,
    )
    q.start(job.id)
    q.close()
    with running_daemon(layout, ok_job):
        wait_until(lambda: settled(layout, 3), 20, "recovered jobs")
    assert sorted(p.name for p in layout.done.iterdir()) == ["early.mid", "left.mid", "orphan.mid"]
    assert set(outputs(layout)) == {"early.out", "left.out", "orphan.out"}
    assert all(read_output(p) for p in layout.out_dir.glob("*.out"))
    assert not list(layout.staging_root.iterdir())


def test_stop_requeues_a_running_job_without_counting_a_try(layout: Layout) -> None:
    config = dataclasses.replace(FAST, shutdown_grace_sec=0.2)
    with running_daemon(layout, mixed_job, config):
        drop(layout, "hang-2.mid", midi_bytes(3))
        wait_until(lambda: counts(layout)["working"] == 1, 20, "the job to start")
    q = JobQueue(layout.state_dir)
    [job] = q.jobs()
    q.close()
    assert (job.state, job.attempts) == ("queued", 0)
    assert (layout.work / job.work_name).exists()


def test_a_second_daemon_on_the_same_inbox_names_the_first(layout: Layout) -> None:
    with (
        running_daemon(layout, ok_job),
        pytest.raises(DaemonError, match=rf"already watching.*pid {os.getpid()}"),
    ):
        Daemon(layout, FAST, ok_job).run()


def test_an_output_folder_that_cannot_be_written_fails_jobs_not_the_daemon(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = layout.inbox.parent / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setattr(Layout, "staging", lambda self, job_id: blocker / str(job_id))
    with running_daemon(layout, ok_job, dataclasses.replace(FAST, max_attempts=2)):
        drop(layout, "first.mid", midi_bytes(1))
        wait_until(lambda: settled(layout, 1), 20, "the job to fail")
        monkeypatch.undo()  # the folder is writable again
        drop(layout, "second.mid", midi_bytes(2))
        wait_until(lambda: settled(layout, 2), 20, "the next job")
    error = (layout.failed / "first.mid.error.txt").read_text()
    assert "cannot prepare" in error
    assert "attempts: 2" in error
    assert [p.name for p in layout.done.iterdir()] == ["second.mid"]
