"""The `reaper` back end's subprocess contract, driven with a stand-in executable (not REAPER).

The stand-in (`standins/fake_reaper.py`) writes a marker ramp, never music: these tests check
that what it wrote comes back unchanged, never how it sounds.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import rpp
from reaper_fixtures import nes_song

from chipline.bridge.base import RenderRequest
from chipline.bridge.reaper import ReaperBackend, ReaperConfig, reaper_command
from chipline.chip import ChipScore
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import write_midi

STANDIN = Path(__file__).parent / "standins" / "fake_reaper.py"
PCM16_TOLERANCE = 1 / 32768  # the stand-in writes 16-bit PCM


def _marker(num_samples: int) -> np.ndarray:
    return (np.arange(num_samples) % 1000) * 8 / 32768


@pytest.fixture(autouse=True)
def own_lock(tmp_path, monkeypatch) -> None:
    """The machine-wide REAPER lock lives in the temp folder; each test gets its own, so two test
    runs on one machine do not wait on each other's hanging stand-in."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def standin(tmp_path, monkeypatch) -> Path:
    """A `reaper` executable that runs the stand-in; returns the log file of its calls."""
    exe = tmp_path / "bin" / "reaper"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_REAPER_LOG", str(log))
    monkeypatch.setenv("CHIPLINE_REAPER", str(exe))
    return log


def _request(tmp_path: Path, num_samples: int = 48_000 * 3) -> RenderRequest:
    song = nes_song()
    work = tmp_path / "work"
    midi = write_midi(song, work / "arranged.mid")
    score = ChipScore(
        "nes", song.ticks_per_beat, (), song.tempos, song.time_signatures, song.end_tick
    )
    return RenderRequest(score, midi, work, 48_000, num_samples)


def _backend(mode: str, monkeypatch, **cfg) -> ReaperBackend:
    monkeypatch.setenv("FAKE_REAPER_MODE", mode)
    return ReaperBackend(ReaperConfig(xvfb="never", timeout_sec=cfg.pop("timeout_sec", 30), **cfg))


def test_render_returns_what_reaper_wrote(tmp_path, standin, monkeypatch):
    request = _request(tmp_path)
    audio = _backend("render", monkeypatch).render(request)
    # The song lasts 2.4 s, the tail 1 s: 3.4 s written, trimmed to the 3 s asked for.
    assert audio.shape == (request.num_samples, 2)
    assert audio.dtype == np.float32
    np.testing.assert_allclose(audio[:, 1], _marker(request.num_samples), atol=PCM16_TOLERANCE)
    (call,) = [json.loads(line) for line in standin.read_text().splitlines()]
    job = request.work_dir / "job.rpp"
    assert call["argv"] == ["-nosplash", "-ignoreerrors", "-newinst", "-renderproject", str(job)]
    root = rpp.loads(job.read_text())
    assert root.find("RENDER_FILE")[1] == str(request.work_dir / "reaper")


def test_short_request_is_padded_with_silence(tmp_path, standin, monkeypatch):
    request = _request(tmp_path, num_samples=48_000 * 5)
    audio = _backend("render", monkeypatch).render(request)
    written = round(3.4 * 48_000)
    assert audio.shape == (request.num_samples, 2)
    assert not audio[written:].any()


def test_stale_output_is_removed_before_rendering(tmp_path, standin, monkeypatch):
    request = _request(tmp_path)
    stale = request.work_dir / "reaper" / "render.wav"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an old render REAPER would ask about overwriting")
    audio = _backend("render", monkeypatch, timeout_sec=20).render(request)
    assert audio.shape == (request.num_samples, 2)


def test_timeout_kills_reaper_and_is_transient(tmp_path, standin, monkeypatch):
    request = _request(tmp_path)
    with pytest.raises(BridgeTimeout) as info:
        _backend("hang", monkeypatch, timeout_sec=1).render(request)
    assert info.value.transient
    assert "within 1 s" in str(info.value)
    assert "a dialog would be open now" in str(info.value)  # REAPER's own output is kept
    pid = json.loads(standin.read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert request.arranged_midi.is_file()  # the MIDI is kept for the retry


def test_exit_code_without_output(tmp_path, standin, monkeypatch):
    with pytest.raises(BridgeError) as info:
        _backend("fail", monkeypatch).render(_request(tmp_path))
    assert info.value.transient
    assert "exited with code 3" in str(info.value)
    assert "cannot load plug-in" in str(info.value)


def test_success_without_output(tmp_path, standin, monkeypatch):
    with pytest.raises(BridgeError, match="rendered nothing") as info:
        _backend("nothing", monkeypatch).render(_request(tmp_path))
    assert info.value.transient
    assert "fake reaper: rendering to" in str(info.value)


def test_undecodable_output_is_not_transient(tmp_path, standin, monkeypatch):
    with pytest.raises(BridgeError, match="cannot be decoded") as info:
        _backend("garbage", monkeypatch).render(_request(tmp_path))
    assert not info.value.transient


def test_implausibly_short_output(tmp_path, standin, monkeypatch):
    with pytest.raises(BridgeError, match=r"lasts 0\.05 s, expected 2\.40 s") as info:
        _backend("short", monkeypatch).render(_request(tmp_path))
    assert info.value.transient


def test_reaper_not_found_says_how_to_point_at_it(tmp_path, monkeypatch):
    backend = ReaperBackend(ReaperConfig(reaper_path=tmp_path / "nowhere" / "reaper"))
    with pytest.raises(BridgeError) as info:
        backend.render(_request(tmp_path))
    assert "REAPER not found" in str(info.value)
    assert "--reaper-path" in str(info.value)
    assert "CHIPLINE_REAPER" in str(info.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xvfb-run is for Linux")
def test_xvfb_wraps_reaper_without_display(tmp_path):
    xvfb = tmp_path / "xvfb-run"
    xvfb.write_text("#!/bin/sh\n")
    xvfb.chmod(0o755)
    argv = reaper_command(
        Path("/opt/REAPER/reaper"), Path("j.rpp"), ReaperConfig(), env={"PATH": str(tmp_path)}
    )
    assert argv[:2] == [str(xvfb), "-a"]
    assert argv[2:] == [
        "/opt/REAPER/reaper",
        "-nosplash",
        "-ignoreerrors",
        "-newinst",
        "-renderproject",
        "j.rpp",
    ]
    with_display = reaper_command(
        Path("r"),
        Path("j.rpp"),
        ReaperConfig(cfgfile=Path("p.ini")),
        env={"PATH": str(tmp_path), "DISPLAY": ":0"},
    )
    assert with_display == [
        "r",
        "-nosplash",
        "-ignoreerrors",
        "-newinst",
        "-cfgfile",
        "p.ini",
        "-renderproject",
        "j.rpp",
    ]
    with pytest.raises(BridgeError, match="xvfb"):
        reaper_command(Path("r"), Path("j.rpp"), ReaperConfig(), env={"PATH": str(tmp_path / "x")})


def test_registered_as_render_back_ends():
    from chipline.bridge import get_backend
    from chipline.render import RenderConfig

    for name in ("reaper", "reaper-live", "reapy"):
        assert get_backend(name, RenderConfig(backend=name)).name == name


def test_render_command_through_the_reaper_back_end(runner, tmp_path, standin, monkeypatch):
    """`chipline render --backend reaper`: the shared master stage runs on REAPER's output."""
    from chipline.cli import cli

    monkeypatch.setenv("FAKE_REAPER_MODE", "render")
    monkeypatch.setenv("DISPLAY", ":0")  # the stand-in needs no display; skip xvfb-run
    midi = write_midi(nes_song(), tmp_path / "level.mid")
    result = runner.invoke(cli, ["render", str(midi), "--out", str(tmp_path / "game"),
                                 "--backend", "reaper", "--formats", "wav"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (call,) = [json.loads(line) for line in standin.read_text().splitlines()]
    assert "-renderproject" in call["argv"]
    assert list((tmp_path / "game").glob("*.wav"))


@pytest.mark.parametrize(
    "error", [BridgeError("a", transient=True), BridgeError("b"), BridgeTimeout("c")]
)
def test_transient_survives_pickling(error):
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.transient == error.transient


def test_reaper_render_command_with_a_user_template(runner, tmp_path, standin, monkeypatch):
    from reaper_fixtures import USER_TEMPLATE, write

    from chipline.cli import cli

    monkeypatch.setenv("FAKE_REAPER_MODE", "render")
    monkeypatch.setenv("DISPLAY", ":0")
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    config = write(tmp_path / "c.toml", '[render]\nformats = ["wav"]\n[reaper]\ntail_sec = 0.5\n')
    midi = [write_midi(nes_song(), tmp_path / f"{n}.mid") for n in ("a", "b")]
    args = ["reaper", "render", *map(str, midi), "--out", str(tmp_path / "game"), "-t",
            str(template), "--map", "Pulse 1=Lead", "--config", str(config)]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "a.wav" in result.output
    assert "through reaper" in result.output
    calls = [json.loads(line) for line in standin.read_text().splitlines()]
    assert len(calls) == 2
    assert calls[0]["tracks"][:4] == ["Lead", "Pulse 2", "Triangle", "Noise"]


def test_reaper_render_command_reports_each_failure(runner, tmp_path, standin, monkeypatch):
    from chipline.cli import cli

    monkeypatch.setenv("FAKE_REAPER_MODE", "fail")
    monkeypatch.setenv("DISPLAY", ":0")
    midi = write_midi(nes_song(), tmp_path / "a.mid")
    result = runner.invoke(cli, ["reaper", "render", str(midi), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "exited with code 3" in result.output


def test_one_reaper_render_at_a_time(tmp_path, standin, monkeypatch):
    from chipline.bridge.reaper_lock import reaper_lock

    lock = tmp_path / "reaper.lock"
    backend = _backend("render", monkeypatch, timeout_sec=0.3, lock_file=lock)
    with reaper_lock(lock, 1), pytest.raises(BridgeTimeout, match="one REAPER at a time"):
        backend.render(_request(tmp_path))  # another render holds the lock
    assert not standin.exists()  # REAPER was never started
    free_again = _backend("render", monkeypatch, lock_file=lock)
    assert free_again.render(_request(tmp_path)).shape == (48_000 * 3, 2)


def test_relative_work_dir_gives_reaper_absolute_paths(tmp_path, standin, monkeypatch):
    request = _request(tmp_path)
    monkeypatch.chdir(tmp_path)
    relative = RenderRequest(request.score, Path("work/arranged.mid"), Path("work"), 48_000, 100)
    _backend("render", monkeypatch).render(relative)
    (call,) = [json.loads(line) for line in standin.read_text().splitlines()]
    assert call["argv"][-1] == str(tmp_path / "work" / "job.rpp")


def test_reaper_that_cannot_start(tmp_path, monkeypatch):
    exe = tmp_path / "reaper"
    exe.write_text("not a program")
    exe.chmod(0o755)
    backend = ReaperBackend(ReaperConfig(reaper_path=exe, xvfb="never"))
    with pytest.raises(BridgeError, match="cannot start REAPER"):
        backend.render(_request(tmp_path))
