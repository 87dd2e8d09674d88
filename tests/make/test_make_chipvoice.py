"""`chipline make` with a chip-voice model: tempo from the MIDI, loop points in every file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generate"))
from chipvoice_models import tiny_model_dir  # noqa: E402

from chipline.cli import cli  # noqa: E402
from chipline.keys import estimate_key  # noqa: E402
from chipline.score import read_midi  # noqa: E402


def _ogg_loop(path: Path) -> tuple[int, int]:
    """LOOPSTART and LOOPLENGTH (samples) from the Vorbis comment header, read as bytes."""
    data = path.read_bytes()[:20000]
    start = re.search(rb"LOOPSTART=(\d+)", data)
    length = re.search(rb"LOOPLENGTH=(\d+)", data)
    assert start, f"{path.name}: no LOOPSTART tag"
    assert length, f"{path.name}: no LOOPLENGTH tag"
    return int(start.group(1)), int(length.group(1))


def _make(runner, model: Path | str, out: Path, *extra: str):
    args = ["make", "--model", str(model), "--out", str(out), "--loop", "--key", "A minor"]
    result = runner.invoke(cli, [*args, "--qpm", "140", "--tracks", "4", *extra])
    assert result.exit_code == 0, result.output
    return sorted(out.glob("track-*.ogg"))


def test_make_with_a_chipvoice_model_delivers_loops_at_the_tempo(runner, tmp_path):
    model = tiny_model_dir(tmp_path / "model")
    oggs = _make(runner, model, tmp_path / "out", "--bars", "4", "--intro-bars", "1")
    assert len(oggs) == 4
    bar_samples = 44100 * 4 * 60 / 140
    for ogg in oggs:
        song = read_midi(tmp_path / "out" / "source" / f"{ogg.stem}.mid")
        assert song.tempos[0].qpm == pytest.approx(140, abs=0.01)
        start, length = _ogg_loop(ogg)
        assert start == pytest.approx(bar_samples, abs=2)
        assert length == pytest.approx(3 * bar_samples, abs=2)


def test_stingers_are_one_shots_without_loop_tags(runner, tmp_path):
    model = tiny_model_dir(tmp_path / "model")
    args = ["make", "--model", str(model), "--out", str(tmp_path / "out"), "--stinger"]
    result = runner.invoke(cli, [*args, "--bars", "2", "--tracks", "1", "--key", "D"])
    assert result.exit_code == 0, result.output
    (ogg,) = (tmp_path / "out").glob("track-*.ogg")
    assert b"LOOPSTART=" not in ogg.read_bytes()[:20000]


@pytest.mark.slow
def test_make_with_the_trained_chipvoice_model_is_in_a_minor(runner, tmp_path):
    oggs = _make(runner, "chipvoice", tmp_path / "out", "--bars", "16")
    assert len(oggs) == 4
    for ogg in oggs:
        song = read_midi(tmp_path / "out" / "source" / f"{ogg.stem}.mid")
        pitched = [n for n in song.notes if not n.is_drum]
        key = estimate_key([n.pitch for n in pitched], [n.end_tick - n.start_tick for n in pitched])
        assert str(key) == "A minor"
        assert _ogg_loop(ogg)[1] > 0


def test_variations_share_their_opening_bars(runner, tmp_path):
    from chipline.arrange import from_song

    model = tiny_model_dir(tmp_path / "model")
    out = tmp_path / "out"
    args = ["make", "--model", str(model), "--out", str(out), "--variations", "2", "--chip", "vrc6"]
    result = runner.invoke(cli, [*args, "--bars", "4", "--tracks", "2", "--key", "Em"])
    assert result.exit_code == 0, result.output
    scores = [from_song(read_midi(out / "source" / f"track-0{i}.mid"), "vrc6") for i in (1, 2)]
    opening = [{(n.voice, n.start_tick, n.pitches) for n in s.notes if n.start_tick < 480 * 4}
               for s in scores]  # fmt: skip
    assert opening[0] == opening[1]
    assert {n.voice for n in scores[0].notes} <= set(scores[0].voices)
    assert scores[0].notes != scores[1].notes


def test_generate_points_a_chipvoice_model_to_make(runner, tmp_path):
    model = tiny_model_dir(tmp_path / "model")
    result = runner.invoke(
        cli, ["generate", "--run-dir", str(model), "--output-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "chipline make --model" in result.output


def test_voices_sets_how_many_chip_voices_play(runner, tmp_path):
    from chipline.arrange import from_song

    model = tiny_model_dir(tmp_path / "model")
    out = tmp_path / "out"
    _make(runner, model, out, "--bars", "4", "--voices", "2")
    for mid in sorted((out / "source").glob("track-*.mid")):
        score = from_song(read_midi(mid), "nes")
        assert len({n.voice for n in score.notes}) <= 2, mid.name
    args = ["make", "--model", str(model), "--out", str(tmp_path / "too-many"), "--voices", "5"]
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert "voices must be 1..4 on the nes, got 5" in result.output


def test_without_a_key_make_draws_keys_in_the_training_pieces_shares():
    import numpy as np
    from chipvoice_models import random_weights

    from chipline.encoding import chipvoice as cv
    from chipline.keys import Key
    from chipline.make import KEY_CHOICES
    from chipline.make_chipvoice import _drawn_key
    from chipline.model.checkpoint import model_config
    from chipline.model.infer import NumpyLSTM

    prior = [0.0] * 24
    prior[3], prior[4 + 12] = 0.5, 0.5  # E-flat major, E minor: neither in KEY_CHOICES
    config = model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME, key_prior=prior)
    rng = np.random.default_rng(0)
    drawn = {_drawn_key(NumpyLSTM(config, random_weights()), rng, KEY_CHOICES) for _ in range(50)}
    assert drawn == {Key(3), Key(4, minor=True)}
    config.pop("key_prior")
    plain = {_drawn_key(NumpyLSTM(config, random_weights()), rng, ("Bb",)) for _ in range(5)}
    assert plain == {Key(10)}


def test_the_pitch_temperature_reaches_the_sampler_and_nonsense_is_refused(runner, tmp_path):
    from chipline.keys import Key
    from chipline.make import MAKE_RENDER, MakeConfig
    from chipline.make_chipvoice import track_controls

    cfg = MakeConfig(temperature=0.9, pitch_temperature=0.6)
    controls = track_controls(cfg, MAKE_RENDER, Key(0))
    assert (controls.temperature, controls.pitch_temperature) == (0.9, 0.6)
    args = ["make", "--model", str(tiny_model_dir(tmp_path / "m")), "--out", str(tmp_path / "o")]
    result = runner.invoke(cli, [*args, "--pitch-temperature", "0"])
    assert result.exit_code != 0
    assert "pitch_temperature" in result.output
    assert not (tmp_path / "o").exists()


def test_the_bundled_chipvoice_model_is_named_by_its_name(runner, tmp_path):
    from chipline.make import bundled_model_dir, model_dir
    from chipline.make_chipvoice import model_codec

    assert model_codec(model_dir("chipvoice")) == "chipvoice"
    assert model_codec(model_dir("")) == model_codec(model_dir("default")) == "polyphony"
    assert model_dir("chipvoice") == bundled_model_dir("chipvoice")
    own = tiny_model_dir(tmp_path / "chipvoice")  # a path wins over a name
    assert model_dir(str(own)) == own
    out = tmp_path / "out"
    args = ["make", "--model", "chipvoice", "--out", str(out), "--tracks", "1", "--bars", "2"]
    result = runner.invoke(cli, [*args, "--key", "G"])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("track-*.ogg"))) == 1


def test_an_unknown_or_unreadable_model_is_refused_before_anything_is_cleared(runner, tmp_path):
    out = tmp_path / "out"
    args = ["make", "--model", "chipvoice", "--out", str(out), "--tracks", "1", "--bars", "2"]
    assert runner.invoke(cli, args).exit_code == 0
    before = sorted(p.name for p in out.iterdir())
    result = runner.invoke(cli, [*args[:2], "nosuch", *args[3:], "--overwrite"])
    assert result.exit_code != 0
    assert "nosuch: no such model dir or run dir, and not a bundled model" in result.output
    assert "default, chipvoice" in result.output
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    result = runner.invoke(cli, [*args[:2], str(not_a_model), *args[3:], "--overwrite"])
    assert result.exit_code != 0
    assert "empty" in result.output
    assert sorted(p.name for p in out.iterdir()) == before
