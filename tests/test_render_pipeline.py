"""render_file / render_files: delivered files, manifest, loop seam, loudness, bad input."""

from __future__ import annotations

import errno
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile

from chip_doubles import fake_arrange, install_fakes, make_song, sine_render, write_song
from chipline import render as render_mod
from chipline import synth
from chipline.errors import ConfigError, MidiFileError, RenderError
from chipline.master import folder, manifest, writers
from chipline.master.files import sha256_file
from chipline.master.loop import repeat_body
from chipline.master.loudness import integrated_lufs, true_peak_dbtp
from chipline.render import RenderConfig, TrackResult, render_file, render_files
from chipline.score import Tempo, read_midi


@pytest.fixture
def fake_chain(monkeypatch):
    return install_fakes(monkeypatch)


SR = 44100
CFG = RenderConfig(backend="sine")
OGG_SEAM_REL_RMS = 0.05  # lossy Vorbis: error across the seam under -26 dB of the signal
SEAM_TOL = 1e-4  # chip.md §8.2 item 8, before encoding; a 16-bit step (3e-5) fits inside


def _only_user_files(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if not p.name.startswith(".")}


def test_render_file_delivers_everything(tmp_path, fake_chain):
    src = write_song(tmp_path / "My Theme!.mid", make_song(num_bars=4))
    out = tmp_path / "out"
    result = render_file(src, out, CFG)
    assert result.name == "My_Theme"
    assert _only_user_files(out) == {
        "My_Theme.ogg", "My_Theme.wav", "My_Theme.mp3", "My_Theme.mid", "My_Theme.png",
        "manifest.json", "index.html",
    }  # fmt: skip
    doc = json.loads((out / "manifest.json").read_text())
    jsonschema.validate(doc, manifest.schema())
    (track,) = doc["tracks"]
    assert track == result.record
    assert track["num_samples"] == 8 * SR
    assert track["loop"]["length_samples"] == 8 * SR
    assert track["source"]["sha256"] == sha256_file(src)
    for record in track["files"]:
        path = out / record["path"]
        assert record["size_bytes"] == path.stat().st_size
        assert record["sha256"] == sha256_file(path)
        if record["role"] == "audio":
            assert soundfile.info(path).frames == track["num_samples"]
    assert writers.read_smpl_loop(out / "My_Theme.wav") == (0, 8 * SR - 1)
    assert not list(out.glob(".*.tmp"))


def test_seam_of_delivered_wav_matches_continuous_render(tmp_path, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=2))
    result = render_file(src, tmp_path / "out", CFG)
    wav, _ = soundfile.read(tmp_path / "out" / "a.wav", dtype="float32")
    gain = 10 ** (result.record["loudness"]["gain_db"] / 20)
    score = fake_arrange(make_song(num_bars=2))
    continuous = gain * sine_render(repeat_body(score, 2), SR, 2 * len(wav))
    played = np.concatenate([wav, wav])
    seam = slice(len(wav) - SR // 2, len(wav) + SR // 2)
    assert np.abs(played[seam] - continuous[seam]).max() <= SEAM_TOL
    ogg, _ = soundfile.read(tmp_path / "out" / "a.ogg", dtype="float32")
    assert len(ogg) == len(wav) == result.record["num_samples"]
    error = np.concatenate([ogg, ogg])[seam] - continuous[seam]
    signal_rms = np.sqrt(np.mean(continuous[seam] ** 2))
    assert np.sqrt(np.mean(error**2)) < OGG_SEAM_REL_RMS * signal_rms


def test_loudness_cross_checked_with_ffmpeg(tmp_path, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=8))
    result = render_file(src, tmp_path / "out", replace(CFG, loudness="console", formats=("wav",)))
    assert result.record["loudness"]["integrated_lufs"] == pytest.approx(-23.0, abs=0.5)
    lufs, peak = _ffmpeg_ebur128(tmp_path / "out" / "a.wav")
    assert lufs == pytest.approx(-23.0, abs=0.5)
    assert peak <= -1.0 + 0.1  # ffmpeg's own true-peak meter, 0.1 dB of meter disagreement
    assert result.record["loudness"]["true_peak_dbtp"] <= -1.0


def _ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) measured by ffmpeg's ebur128 filter."""
    log = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    summary = log[log.rindex("Summary:") :]
    lufs = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return lufs, peak


def test_stems_and_no_loop(tmp_path, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=2))
    cfg = replace(CFG, stems=True, loop=False, formats=("wav",))
    result = render_file(src, tmp_path / "out", cfg)
    stems = [f for f in result.record["files"] if f["role"] == "stem"]
    assert {f["voice"] for f in stems} == {"Pulse 1", "Noise"}
    assert not result.record["loop"]["enabled"]
    assert result.record["num_samples"] > 4 * SR  # natural tail kept past the 4-s bar line
    assert writers.read_smpl_loop(tmp_path / "out" / "a.wav") is None


def test_existing_outputs_need_overwrite(tmp_path, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=1))
    out = tmp_path / "out"
    first = render_file(src, out, CFG)
    before = (out / "a.ogg").read_bytes()
    with pytest.raises(RenderError, match="already exists; pass --overwrite"):
        render_file(src, out, CFG)
    assert (out / "a.ogg").read_bytes() == before
    again = render_file(src, out, replace(CFG, overwrite=True))
    assert again.record["render_sha256"] == first.record["render_sha256"]


def test_names_are_safe_and_unique(tmp_path, fake_chain):
    (tmp_path / "x").mkdir()
    a = write_song(tmp_path / "theme.mid", make_song(num_bars=1))
    b = write_song(tmp_path / "x" / "theme.mid", make_song(num_bars=1, pitches=(50,)))
    results = render_files([a, b], tmp_path / "out", CFG)
    assert [r.name for r in results if isinstance(r, TrackResult)] == ["theme", "theme-2"]
    with pytest.raises(ConfigError, match="not a safe file name"):
        render_file(a, tmp_path / "out", CFG, name="../evil")


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    silent = replace(make_song(), notes=())
    absurd = replace(make_song(), tempos=(Tempo(0, 1),))
    long = replace(make_song(num_bars=1), tempos=(Tempo(0, 16_000_000),), end_tick=480 * 200)
    return {
        "no notes to render": write_song(tmp_path / "silent.mid", silent),
        "only drum notes": write_song(tmp_path / "drums.mid", make_song(drums_only=True)),
        "outside 10..1000 qpm": write_song(tmp_path / "absurd.mid", absurd),
        "over the limit": write_song(tmp_path / "long.mid", long),
    }


def test_bad_files_fail_alone_and_leave_nothing(tmp_path, fake_chain):
    bad = _bad_inputs(tmp_path)
    good = write_song(tmp_path / "good.mid", make_song(num_bars=1))
    out = tmp_path / "out"
    results = render_files([*bad.values(), good], out, CFG)
    for (reason, path), result in zip(bad.items(), results, strict=False):
        assert isinstance(result, RenderError | MidiFileError)
        assert reason in str(result)
        assert str(path) in str(result)
        assert "\n" not in str(result)
    assert isinstance(results[-1], TrackResult)
    names = _only_user_files(out)
    assert all(n.startswith("good.") for n in names - {"manifest.json", "index.html"})
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_unwritable_output_folder(tmp_path, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=1))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RenderError, match="cannot create the output folder"):
        render_file(src, blocker / "out", CFG)


def test_full_disk_leaves_no_partial_outputs(tmp_path, fake_chain, monkeypatch):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=1))
    other = write_song(tmp_path / "b.mid", make_song(num_bars=1))
    out = tmp_path / "out"
    real = writers.write_mp3
    calls = []

    def full(path, *args):
        calls.append(path)
        if len(calls) == 1:
            path.write_bytes(b"\xff\xfb partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, *args)

    monkeypatch.setattr(writers, "write_mp3", full)
    results = render_files([src, other], out, CFG)
    assert isinstance(results[0], RenderError)
    assert str(results[0]) == (
        f"{out / 'a.mp3'}: cannot write (No space left on device); "
        "free some disk space or choose another --out"
    )
    assert isinstance(results[1], TrackResult)
    assert not [p for p in out.rglob("*") if p.name.startswith("a.") or p.name.endswith(".tmp")]
    assert [t["name"] for t in folder.refresh(out)["tracks"]] == ["b"]


def test_real_chain_renders_the_example(tmp_path):
    """The built-in arranger and 2A03 synth end to end on the bundled theme."""
    src = Path(__file__).resolve().parents[1] / "examples" / "theme.mid"
    out = tmp_path / "out"
    result = render_file(src, out, RenderConfig(formats=("wav", "mp3")))
    track = result.record
    jsonschema.validate(json.loads((out / "manifest.json").read_text()), manifest.schema())
    assert track["render"]["backend"] == "chip"
    assert track["loudness"]["integrated_lufs"] == pytest.approx(-18.0, abs=0.5)
    assert track["loudness"]["true_peak_dbtp"] <= -1.0
    wav, sr = soundfile.read(out / "theme.wav", dtype="float32")
    assert len(wav) == track["num_samples"] == track["loop"]["length_samples"]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out / "theme.mp3"), "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert len(raw) // 4 == track["num_samples"]
    again = render_file(src, tmp_path / "again", RenderConfig(formats=("wav",)))
    assert again.record["render_sha256"] == track["render_sha256"]  # deterministic render
    # the seam against a continuous render of the 2A03 synth playing the loop twice
    score = render_mod._arrange(read_midi(src), RenderConfig())
    assert not track["loudness"]["peak_limited"]
    gain = 10 ** (track["loudness"]["gain_db"] / 20)
    n = len(wav)
    continuous = gain * synth.render(repeat_body(score, 2), synth.SynthConfig(SR), 2 * n)
    played = np.concatenate([wav, wav])
    window = slice(n - SR, n + SR)  # one second either side of the loop point
    assert np.abs(played[window] - continuous[window]).max() <= SEAM_TOL


def test_real_chain_vrc6_pal_meets_loudness_through_the_limiter(tmp_path):
    src = Path(__file__).resolve().parents[1] / "examples" / "theme.mid"
    cfg = RenderConfig(chip="vrc6", region="pal", filter="nes", formats=("wav",), loudness="mobile")
    track = render_file(src, tmp_path / "out", cfg).record
    assert track["chip"] == "vrc6"
    assert track["loudness"]["peak_limited"]  # this mix is too peaky for a plain gain to -16
    wav, _ = soundfile.read(tmp_path / "out" / "theme.wav", dtype="float32")
    assert integrated_lufs(wav, SR) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(wav, loop=True) <= -1.0
    lufs, peak = _ffmpeg_ebur128(tmp_path / "out" / "theme.wav")  # an independent meter agrees
    assert lufs == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.0
