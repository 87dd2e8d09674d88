"""chipline make: a complete, deterministic game folder from a model, and its failure modes."""

from __future__ import annotations

import hashlib
import json

import pytest
from make_helpers import tiny_model

from chipline.errors import ConfigError, ModelError
from chipline.keys import parse_key
from chipline.make import MakeConfig, make
from chipline.render import RenderConfig
from chipline.score import read_midi
from chipline.tonality import relative, song_key

FAST = RenderConfig(formats=("ogg", "wav"), pianoroll=False)


def _tree(folder):
    """relative path -> sha256 of every file under `folder`."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model") / "tiny")


def _cfg(model_dir, **changes):
    return MakeConfig(num_tracks=2, num_bars=2, qpm=150, model=str(model_dir), **changes)


def test_folder_is_complete(tmp_path, model_dir):
    results = make(tmp_path / "out", _cfg(model_dir), FAST)
    out = tmp_path / "out"
    assert [r.name for r in results] == ["track-01", "track-02"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["tracks"]] == ["track-01", "track-02"]
    assert "track-01.ogg" in (out / "index.html").read_text()
    for track in manifest["tracks"]:
        name = track["name"]
        for suffix in (".ogg", ".wav", ".mid"):
            assert (out / f"{name}{suffix}").stat().st_size > 0
        assert track["loop"]["enabled"]
        assert track["loop"]["length_sec"] == pytest.approx(2 * 4 * 60 / 150, abs=1e-3)
        source = read_midi(out / "source" / f"{name}.mid")
        assert source.qpm == pytest.approx(150)
        pitched = [n for n in source.notes if not n.is_drum]
        assert len(pitched) >= MakeConfig().min_notes_per_bar * 2
        assert any(n.is_drum for n in source.notes)


def test_same_seed_same_bytes_other_seed_other_music(tmp_path, model_dir):
    cfg = _cfg(model_dir, seed=3, num_workers=2)
    make(tmp_path / "a", cfg, FAST)
    make(tmp_path / "b", cfg, FAST)
    make(tmp_path / "c", _cfg(model_dir, seed=4), FAST)
    make(tmp_path / "d", _cfg(model_dir, seed=3, num_workers=1), FAST)
    first = _tree(tmp_path / "a")
    assert first == _tree(tmp_path / "b") == _tree(tmp_path / "d")
    other = _tree(tmp_path / "c")
    assert first["source/track-01.mid"] != other["source/track-01.mid"]


def test_requested_key_is_the_estimated_key(tmp_path, model_dir):
    make(tmp_path / "out", _cfg(model_dir, key="F#m", drums=False), FAST)
    for name in ("track-01", "track-02"):
        song = read_midi(tmp_path / "out" / "source" / f"{name}.mid")
        key = song_key(song)
        assert key in (parse_key("F#m"), relative(parse_key("F#m")))
        assert not any(n.is_drum for n in song.notes)


def test_non_empty_folder_needs_overwrite_and_old_tracks_go(tmp_path, model_dir):
    out = tmp_path / "out"
    make(out, _cfg(model_dir), FAST)
    with pytest.raises(ConfigError, match="not empty"):
        make(out, _cfg(model_dir), FAST)
    make(out, MakeConfig(num_tracks=1, num_bars=2, model=str(model_dir)),
         RenderConfig(formats=("wav",), pianoroll=False, overwrite=True))  # fmt: skip
    assert not (out / "track-02.wav").exists()
    assert not (out / "track-01.ogg").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["tracks"]] == ["track-01"]


def test_a_model_that_writes_silence_is_refused(tmp_path):
    silent = tiny_model(tmp_path / "silent", notes=False)
    with pytest.raises(ModelError, match="musical"):
        make(tmp_path / "out", _cfg(silent, max_attempts=2), FAST)


@pytest.mark.parametrize(
    "changes", [{"num_tracks": 0}, {"num_bars": 0}, {"qpm": 5}, {"temperature": 0}, {"key": "H"}]
)
def test_bad_settings_are_refused(changes):
    with pytest.raises(ConfigError):
        MakeConfig(**changes)


def test_cli_make(tmp_path, runner, model_dir):
    out = tmp_path / "out"
    args = ["make", "--out", str(out), "--model", str(model_dir), "--tracks", "1", "--bars", "2",
            "--formats", "wav", "--key", "G", "--seed", "1"]  # fmt: skip
    from chipline.cli import cli

    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "1 tracks in" in result.output
    assert (out / "track-01.wav").is_file()
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "not empty" in again.output


def test_cli_make_config_file(tmp_path, runner, model_dir):
    from chipline.cli import cli

    config = tmp_path / "make.toml"
    config.write_text('[make]\nnum_tracks = 1\nnum_bars = 2\nqpm = 90.0\n[render]\nchip = "vrc6"\n')
    out = tmp_path / "out"
    args = ["make", "--out", str(out), "--model", str(model_dir), "--config", str(config)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "manifest.json").read_text())["tracks"][0]
    assert record["chip"] == "vrc6"
    assert record["tempo_qpm"] == pytest.approx(90)
    assert [f["format"] for f in record["files"] if f["role"] == "audio"] == ["ogg"]
