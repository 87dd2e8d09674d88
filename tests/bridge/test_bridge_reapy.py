"""The `reapy` back end: the real python-reapy client against a loopback stand-in for REAPER.

`standins/fake_reapy_server.py` speaks reapy's real wire protocol but is not REAPER: it writes a
marker ramp where a render would go, so these tests check the job sequence, never the sound.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from reaper_fixtures import nes_song

from chipline.bridge.base import RenderRequest
from chipline.bridge.reaper import ReaperConfig
from chipline.bridge.reapy_backend import ReapyBackend, ReapyConfig
from chipline.chip import ChipScore
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import write_midi

pytest.importorskip("reapy", reason="the [reapy] extra (python-reapy) is not installed")

STANDIN = Path(__file__).parent / "standins" / "fake_reapy_server.py"
PCM16_TOLERANCE = 1 / 32768  # the stand-in writes 16-bit PCM
SEQUENCE = [
    "_get_api_names", "HOLD", "Main_OnCommand", "Main_openProject", "EnumProjects",
    "GetProjectLength", "CountTracks",
]  # fmt: skip


@contextmanager
def standin_reaper(tmp_path: Path, mode: str = "normal") -> Iterator[tuple[int, Path]]:
    """Start the stand-in; yields (web interface port, log of request frames)."""
    log = tmp_path / f"reapy-{mode}.jsonl"
    log.touch()
    proc = subprocess.Popen([sys.executable, str(STANDIN), str(log), mode],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline()), log
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def _requests(log: Path) -> list[dict]:
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return [json.loads(e["frame"]) for e in entries if "frame" in e]


def _names(requests: list[dict]) -> list[str]:
    return [r["function"] if isinstance(r["function"], str) else r["function"]["name"]
            for r in requests]  # fmt: skip


def _request(tmp_path: Path) -> RenderRequest:
    song = nes_song()
    midi = write_midi(song, tmp_path / "work" / "arranged.mid")
    score = ChipScore("nes", song.ticks_per_beat, (), song.tempos, song.time_signatures,
                      song.end_tick)  # fmt: skip
    return RenderRequest(score, midi, tmp_path / "work", 48_000, 48_000 * 3)


def _backend(port: int, **cfg) -> ReapyBackend:
    return ReapyBackend(ReapyConfig(web_port=port, **cfg), ReaperConfig())


def test_whole_job_in_one_inside_reaper_block(tmp_path):
    request = _request(tmp_path)
    with standin_reaper(tmp_path) as (port, log):
        audio = _backend(port).render(request)
    ramp = (np.arange(request.num_samples) % 1000) * 8 / 32768
    np.testing.assert_allclose(audio, ramp, atol=PCM16_TOLERANCE)
    requests = _requests(log)
    names = _names(requests)
    assert names[: len(SEQUENCE)] == SEQUENCE
    assert names[-4:] == ["Main_OnCommand", "Main_openProject", "Main_OnCommand", "RELEASE"]
    assert names.count("HOLD") == 1  # every ReaScript call inside one inside_reaper() block
    assert names.count("GetSetMediaTrackInfo_String") == 7  # the default template's tracks
    opened = [r for r in requests if _names([r]) == ["Main_openProject"]]
    assert opened[0] == {
        "function": {"__callable__": True, "module_name": "reapy.reascript_api",
                     "name": "Main_openProject"},
        "input": {"args": [f"noprompt:{request.work_dir / 'job.rpp'}"], "kwargs": {}},
    }  # fmt: skip
    commands = [r["input"]["args"][0] for r in requests if _names([r]) == ["Main_OnCommand"]]
    assert commands == [40859, 42230, 40860]  # new tab, render, close the tab


def test_refused_call_is_an_error_and_releases_reaper(tmp_path):
    with standin_reaper(tmp_path, "refuse-render") as (port, log):
        with pytest.raises(BridgeError, match="render refused") as info:
            _backend(port).render(_request(tmp_path))
        assert _names(_requests(log))[-1] == "RELEASE"
    assert not isinstance(info.value, BridgeTimeout)


def test_reaper_that_stops_answering_times_out_and_the_caller_goes_on(tmp_path):
    with (
        standin_reaper(tmp_path, "stall-on-render") as (port, _),
        pytest.raises(BridgeTimeout, match=r"Main_OnCommand\(42230, 0\) got no answer") as info,
    ):
        _backend(port, render_timeout_sec=0.5).render(_request(tmp_path))
    assert info.value.transient
    with standin_reaper(tmp_path) as (port, _):  # the next job runs normally
        audio = _backend(port).render(_request(tmp_path / "next"))
    assert audio.shape == (48_000 * 3,)


def test_reaper_not_running_is_transient(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BridgeError, match="not reachable") as info:
        _backend(port).render(_request(tmp_path))
    assert info.value.transient


@pytest.mark.slow
def test_server_that_never_starts_times_out_connecting(tmp_path):
    with (
        standin_reaper(tmp_path, "never-starts") as (port, _),
        pytest.raises(BridgeTimeout, match="connecting to REAPER"),
    ):
        _backend(port, import_timeout_sec=1).render(_request(tmp_path))


@pytest.mark.slow
def test_server_that_never_starts_makes_reapy_recurse(tmp_path):
    with standin_reaper(tmp_path, "never-starts") as (port, log):
        with pytest.raises(BridgeError, match="reapy recursed") as info:
            _backend(port, import_timeout_sec=120).render(_request(tmp_path))
        assert len(log.read_text().splitlines()) > 100  # the activate/ask loop of reapy #130
    assert info.value.transient


def test_reaper_render_command_through_reapy(runner, tmp_path):
    from chipline.cli import cli

    midi = write_midi(nes_song(), tmp_path / "boss.mid")
    with standin_reaper(tmp_path) as (port, log):
        config = tmp_path / "c.toml"
        config.write_text(f'[render]\nformats = ["wav"]\n[reapy]\nweb_port = {port}\n')
        args = ["reaper", "render", str(midi), "--out", str(tmp_path / "game"), "--backend",
                "reapy", "--config", str(config)]  # fmt: skip
        result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "through reapy" in result.output
    assert "Main_openProject" in _names(_requests(log))
