"""The "generate" and "render to the game folder" REAPER actions (our real Lua scripts), run under
a stand-in of REAPER's Lua API, with a stand-in `chipline` program. Neither stand-in is REAPER
or chipline: they record calls and write placeholders, so these tests check the scripts' logic.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

LUA = shutil.which("lua5.4")
SCRIPTS = Path(__file__).resolve().parents[2] / "src" / "chipline" / "reaper_scripts"
STANDINS = Path(__file__).parent / "standins"
pytestmark = pytest.mark.skipif(LUA is None, reason="needs a Lua 5.4 interpreter (lua5.4)")


def run_action(tmp_path: Path, script: str, inputs: str | None, **env: str) -> list[list[str]]:
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    full = dict(
        os.environ,
        STANDIN_LOG=str(log),
        STANDIN_RESOURCE=str(tmp_path / "resource"),
        STANDIN_STOP=str(tmp_path / "stop"),
        STANDIN_SCRIPT=str(SCRIPTS / script),
        **env,
    )
    if inputs is not None:
        full["STANDIN_INPUTS"] = inputs
    subprocess.run(
        [LUA, str(STANDINS / "reaper_api_standin.lua")], env=full, check=True, timeout=60
    )
    return [line.split("\t") for line in log.read_text().splitlines()]


def _fake_chipline(tmp_path: Path) -> Path:
    exe = tmp_path / "bin" / "chipline"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / "fake_chipline.py"}" "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_generate_runs_generate_then_render_and_inserts_one_file_per_track(tmp_path):
    exe = _fake_chipline(tmp_path)
    out = tmp_path / "game music"
    log = tmp_path / "chipline.jsonl"
    inputs = "\n".join(["2", "10", str(tmp_path / "model"), str(out), str(exe), "reaper", "y"])
    calls = run_action(tmp_path, "chipline_generate.lua", inputs, FAKE_CHIPLINE_LOG=str(log))
    generate, render = [json.loads(line) for line in log.read_text().splitlines()]
    assert generate == [
        "generate",
        "--model",
        str(tmp_path / "model"),
        "--output-dir",
        str(out / "midi"),
        "--num-outputs",
        "2",
        "--num-steps",
        "80",
        "--qpm",
        "120",
    ]  # 10 s at 120 qpm: 80 16th steps
    assert render == [
        "render",
        str(out / "midi" / "piece_1.mid"),
        str(out / "midi" / "piece_2.mid"),
        "--out",
        str(out),
        "--backend",
        "reaper",
    ]
    inserted = [c[1:] for c in calls if c[0] == "InsertMedia"]
    assert inserted == [[str(out / "piece_1.wav"), "1"], [str(out / "piece_2.wav"), "1"]]
    (box,) = [c for c in calls if c[0] == "ShowMessageBox"]
    assert "chipline generate: ok" in box[2]
    assert "2 new track(s)" in box[2]
    remembered = {c[2]: c[3] for c in calls if c[0] == "SetExtState"}
    assert remembered["count"] == "2"
    assert remembered["backend"] == "reaper"


def test_generate_refuses_bad_answers_and_runs_nothing(tmp_path):
    calls = run_action(tmp_path, "chipline_generate.lua", "two\n10\nm\nout\nchipline\nchip\ny")
    assert [c[0] for c in calls if c[0] in ("ExecProcess", "ShowMessageBox")] == ["ShowMessageBox"]


def test_generate_cancelled(tmp_path):
    calls = run_action(tmp_path, "chipline_generate.lua", None)
    assert [c[0] for c in calls] == ["GetUserInputs", "EXIT"]


def test_generate_reports_a_failing_command(tmp_path):
    inputs = "\n".join(
        ["1", "5", "m", str(tmp_path / "out"), str(tmp_path / "no-chipline"), "chip", "y"]
    )
    calls = run_action(tmp_path, "chipline_generate.lua", inputs)
    (box,) = [c for c in calls if c[0] == "ShowMessageBox"]
    assert "chipline generate: failed (127)" in box[2]
    assert not [c for c in calls if c[0] == "InsertMedia"]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "Boss Theme.rpp"
    project.write_text(
        '<REAPER_PROJECT 0.1 "7.27" 0\n  RENDER_FMT 0 2 44100\n  <TRACK\n'
        "    <ITEM\n      LENGTH 2.5\n    >\n  >\n>\n"
    )
    return project


def test_render_to_game_folder(tmp_path):
    game = tmp_path / "game" / "audio"
    game.mkdir(parents=True)
    (game / "Boss Theme.wav").write_bytes(b"last week's render")
    calls = run_action(
        tmp_path, "chipline_render_to_game.lua", str(game), STANDIN_PROJECT=str(_project(tmp_path))
    )
    assert ["GetSetProjectInfo_String", "RENDER_FILE", str(game), "true"] in calls
    assert ["GetSetProjectInfo_String", "RENDER_PATTERN", "$project", "true"] in calls
    assert ["GetSetProjectInfo", "RENDER_BOUNDSFLAG", "1", "true"] in calls  # entire project
    assert not [c for c in calls if c[0] == "PROMPT"]  # the old file was deleted first
    assert (game / "Boss Theme.wav").read_bytes()[:4] == b"RIFF"
    (box,) = [c for c in calls if c[0] == "ShowMessageBox"]
    assert box[1] == "chipline: rendered"
    assert ["SetProjExtState", "chipline", "game_folder", str(game)] in calls


def test_render_to_game_folder_reports_a_missing_file(tmp_path):
    calls = run_action(
        tmp_path,
        "chipline_render_to_game.lua",
        str(tmp_path / "game"),
        STANDIN_PROJECT=str(_project(tmp_path)),
        STANDIN_MODE="silent-render",
    )
    (box,) = [c for c in calls if c[0] == "ShowMessageBox"]
    assert box[1] == "chipline: render incomplete"
    assert "MISSING" in box[2]


def test_render_to_game_folder_refuses_an_empty_project(tmp_path):
    empty = tmp_path / "empty.rpp"
    empty.write_text('<REAPER_PROJECT 0.1 "7.27" 0\n>\n')
    calls = run_action(
        tmp_path, "chipline_render_to_game.lua", str(tmp_path), STANDIN_PROJECT=str(empty)
    )
    assert not [c for c in calls if c[0] == "Main_OnCommand"]
    assert "nothing to render" in [c for c in calls if c[0] == "ShowMessageBox"][0][2]
