"""The SQLite job queue: states, duplicates, output names, retries, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipline.daemon.queue import JobQueue


@pytest.fixture
def q(tmp_path: Path):
    queue = JobQueue(tmp_path / "state")
    yield queue
    queue.close()


def add(q: JobQueue, name: str, sha: str, *, skip=True, overwrite=False, taken=()):
    return q.add(
        name, name, sha, skip_duplicates=skip, overwrite=overwrite, name_taken=lambda n: n in taken
    )


def test_a_job_goes_queued_working_done(q: JobQueue) -> None:
    job = add(q, "a.mid", "h1")
    assert (job.state, job.out_name, job.attempts) == ("queued", "a", 0)
    assert q.next_ready(now_sec=job.created_sec + 1) == job
    q.start(job.id)
    assert q.next_ready(now_sec=job.created_sec + 1) is None
    q.done(job.id, 0.5, ["a.ogg"])
    done = q.get(job.id)
    assert (done.state, done.attempts, done.output_list()) == ("done", 1, ["a.ogg"])
    assert q.counts() == {"queued": 0, "working": 0, "done": 1, "failed": 0, "skipped": 0}


def test_same_content_is_skipped_unless_asked(q: JobQueue) -> None:
    first = add(q, "a.mid", "h1")
    in_flight = add(q, "x.mid", "h1")
    assert in_flight.state == "queued"  # the first may still fail: no skip yet
    q.done(first.id, 0.1, [])
    dup = add(q, "b.mid", "h1")
    assert (dup.state, dup.duplicate_of, dup.out_name) == ("skipped", first.id, "a")
    again = add(q, "c.mid", "h1", skip=False)
    assert again.state == "queued"
    assert again.out_name == "c"


def test_a_new_version_of_a_name_gets_a_new_output_name(q: JobQueue) -> None:
    assert add(q, "song.mid", "h1").out_name == "song"
    assert add(q, "song.mid", "h2").out_name == "song-2"
    assert add(q, "song.mid", "h3").out_name == "song-3"
    assert add(q, "song.mid", "h4", overwrite=True).out_name == "song"
    assert add(q, "old.mid", "h5", taken={"old"}).out_name == "old-2"
    assert add(q, "SONG.mid", "h6").out_name == "SONG-4"  # case-insensitive file systems


def test_failed_content_dropped_again_is_retried_under_its_name(q: JobQueue) -> None:
    job = add(q, "a.mid", "h1")
    q.start(job.id)
    failed = q.failed_try(job.id, "bad", 0.1, None, "log")
    assert (failed.state, failed.attempts, failed.error, failed.log_tail) == (
        "failed",
        1,
        "bad",
        "log",
    )
    again = add(q, "a.mid", "h1")
    assert (again.state, again.out_name) == ("queued", "a")


def test_a_transient_failure_waits_for_its_backoff(q: JobQueue) -> None:
    job = add(q, "a.mid", "h1")
    q.start(job.id)
    retry = q.failed_try(job.id, "timeout", 0.1, 30.0, "")
    assert (retry.state, retry.attempts) == ("queued", 1)
    assert "try 1: timeout" in retry.history
    assert q.next_ready(now_sec=retry.next_try_sec - 1) is None
    assert q.next_ready(now_sec=retry.next_try_sec) == retry
    assert q.next_wake_sec() == retry.next_try_sec


def test_recover_requeues_working_jobs(q: JobQueue) -> None:
    a, b = add(q, "a.mid", "h1"), add(q, "b.mid", "h2")
    q.start(a.id)
    q.start(b.id)
    q.done(b.id, 0.1, [])
    assert q.recover() == 1
    assert q.get(a.id).state == "queued"
    assert q.get(a.id).attempts == 0
    assert q.latest_by_work_name("a.mid") == q.get(a.id)


def test_a_reader_sees_the_writers_commits(q: JobQueue, tmp_path: Path) -> None:
    add(q, "a.mid", "h1")
    reader = JobQueue(tmp_path / "state", readonly=True)
    try:
        assert reader.counts()["queued"] == 1
    finally:
        reader.close()
