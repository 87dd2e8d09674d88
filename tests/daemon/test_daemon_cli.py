"""`chipline watch` as a real process (signals, exit code, log line) and `chipline status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from daemon_helpers import PYTHON, env_with_tests_path, midi_bytes, running_daemon, wait_until
from daemon_jobs import mixed_job

from chipline.cli import cli
from chipline.daemon import Layout
from chipline.daemon.platform import InstanceLock

pytestmark = pytest.mark.timeout(60)


def test_status_of_an_inbox_no_daemon_has_seen(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["status", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["running"] is False
    assert report["counts"] == {}


def test_status_counts_failures_and_a_running_daemon(runner: CliRunner, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "inbox", tmp_path / "out")
    layout.inbox.mkdir()
    with running_daemon(layout, mixed_job):
        (layout.inbox / "ok.mid").write_bytes(midi_bytes(1))
        (layout.inbox / "bad-x.mid").write_bytes(midi_bytes(2))
        wait_until(lambda: len(list(layout.done.iterdir())) == 1, 20, "ok.mid done")
        wait_until(lambda: len(list(layout.failed.iterdir())) == 2, 20, "bad-x.mid failed")
        result = runner.invoke(cli, ["status", str(layout.inbox), "--json"])
        # stdout alone: the daemon thread may still log its warning to the captured stderr
        report = json.loads(result.stdout)
        assert report["running"] is True
        assert report["pid"] == os.getpid()
        assert report["counts"]["done"] == 1
        assert report["counts"]["failed"] == 1
        assert report["failures"][0]["file"] == "bad-x.mid"
        assert "cannot render" in report["failures"][0]["reason"]
        assert report["finished_last_10_min"] == 2
    text = runner.invoke(cli, ["status", str(layout.inbox)]).output
    assert "daemon not running" in text
    assert "1 done, 1 failed" in text
    assert "failed: bad-x.mid (1 tries): RenderError" in text


def test_watch_refuses_an_inbox_another_daemon_holds(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    with InstanceLock(tmp_path / "inbox" / ".chipline"):
        result = runner.invoke(
            cli,
            [
                "watch",
                str(tmp_path / "inbox"),
                "--out",
                str(tmp_path / "out"),
                "--job",
                "daemon_jobs:ok_job",
            ],
        )
    assert result.exit_code == 1
    assert f"already watching this inbox (pid {os.getpid()})" in result.output


def test_watch_process_renders_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    inbox, out, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "watch.log"
    inbox.mkdir()
    (inbox / "early.mid").write_bytes(midi_bytes(1))
    config = tmp_path / "chipline.toml"
    config.write_text("[watch]\nshutdown_grace_sec = 0.5\nstable_sec = 0.2\n")
    cmd = [
        PYTHON,
        "-m",
        "chipline",
        "watch",
        str(inbox),
        "--out",
        str(out),
        "--workers",
        "1",
        "--config",
        str(config),
        "--job",
        "daemon_jobs:mixed_job",
        "--log-file",
        str(log),
    ]
    proc = subprocess.Popen(
        cmd, env=env_with_tests_path(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_until(lambda: (inbox / "done" / "early.mid").exists(), 30, "early.mid done")
        (inbox / "hang-1.mid").write_bytes(midi_bytes(2))
        # started, not only taken: a job still queued at the stop stays queued, with no re-queue
        staging = out / ".chipline" / "staging" / "2"
        wait_until(staging.exists, 30, "hang-1.mid started")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)  # the grace period bounds the exit
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "stopped" in output
    lines = log.read_text().splitlines()
    assert any("done early.mid → early (2 files)" in line for line in lines), lines
    assert any("re-queued job 2" in line for line in lines), lines
    assert (inbox / "work" / "hang-1.mid").exists()  # re-queued, not lost
