"""The command line: --version, --help everywhere, `info`, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from chipline import __version__
from chipline.cli import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "theme.mid"


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("path", [(), *_all_commands(cli)], ids=" ".join)
def test_every_command_has_help(runner, path):
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_info_prints_one_line_per_file(runner):
    result = runner.invoke(cli, ["info", str(EXAMPLE)])
    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    assert "241 notes (96 drum)" in result.output
    assert "8.0 bars" in result.output


def test_info_reports_a_bad_file_and_carries_on(runner, tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"hello")
    result = runner.invoke(cli, ["info", str(bad), str(EXAMPLE)])
    assert result.exit_code == 1
    assert f"Error: {bad}: not a MIDI file (no MThd header)" in result.stderr
    assert "theme.mid: type 1" in result.stdout
    assert "Traceback" not in result.output


def test_info_json(runner):
    result = runner.invoke(cli, ["info", "--json", str(EXAMPLE)])
    record = json.loads(result.stdout)
    assert record["notes"] == 241
    assert record["time_signature"] == "4/4"
    assert record["pitch_range"] == [31, 79]


def test_usage_error_exits_2(runner):
    assert runner.invoke(cli, ["info"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_python_dash_m_runs_the_cli():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "chipline", "--version"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0
    assert __version__ in result.stdout
