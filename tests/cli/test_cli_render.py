"""`chipline render`: one line per file, errors on stderr, exit 1 if any failed."""

from __future__ import annotations

import json

import pytest

from chip_doubles import install_fakes, make_song, write_song
from chipline.cli import cli


@pytest.fixture
def fake_chain(monkeypatch):
    return install_fakes(monkeypatch)


def test_render_two_files_one_bad(tmp_path, runner, fake_chain):
    good = write_song(tmp_path / "good.mid", make_song(num_bars=1))
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["render", str(bad), str(good), "--out", str(out), "--backend", "sine",
              "--formats", "ogg,wav", "--loudness", "web", "--no-loop"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"Error: {bad}: not a MIDI file (no MThd header)" in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{good} -> good.{{ogg,wav}}")
    assert "no loop" in lines[0]
    doc = json.loads((out / "manifest.json").read_text())
    (track,) = doc["tracks"]
    assert track["loudness"]["target_lufs"] == -16.0
    assert sorted(f["format"] for f in track["files"] if f["role"] == "audio") == ["ogg", "wav"]


def test_render_config_file_and_bad_option(tmp_path, runner, fake_chain):
    src = write_song(tmp_path / "a.mid", make_song(num_bars=1))
    conf = tmp_path / "c.toml"
    conf.write_text('[render]\nbackend = "sine"\nformats = ["wav"]\nloudness = -20\n')
    result = runner.invoke(
        cli, ["render", str(src), "--out", str(tmp_path / "o"), "--config", str(conf)]
    )
    assert result.exit_code == 0, result.output
    assert "-20.0 LUFS" in result.stdout
    result = runner.invoke(
        cli, ["render", str(src), "--out", str(tmp_path / "o"), "--formats", "flac"]
    )
    assert result.exit_code == 1
    assert "Error: formats ['flac']: choose from ogg, wav, mp3" in result.stderr
