"""chipline eval: held-out NLL per event, and Yang–Lerch sample quality with ceiling and floor."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generate"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from chipvoice_models import tiny_model, tiny_model_dir  # noqa: E402
from helpers_model import write_dataset  # noqa: E402

from chipline.dataset import load_dataset  # noqa: E402
from chipline.encoding import polyphony  # noqa: E402
from chipline.errors import ConfigError  # noqa: E402
from chipline.evaluate import (  # noqa: E402
    dataset_nll,
    generated_pieces,
    load_scored_model,
    real_pieces,
    sample_quality,
)
from chipline.model.checkpoint import expected_shapes, load_model, model_config, save_model  # noqa: E402
from chipline.model.infer import NumpyLSTM  # noqa: E402
from chipline.score import Note, Song, write_midi  # noqa: E402
from chipline.yanglerch import Piece, mean_overlap, overlap_area, random_pieces  # noqa: E402


def _model(path, zero=False):
    config = model_config([12, 12], polyphony.VOCAB_SIZE, dropout=0.0)
    rng = np.random.default_rng(1)
    weights = {
        k: (np.zeros(s) if zero else rng.standard_normal(s) * 0.5).astype(np.float32)
        for k, s in expected_shapes(config).items()
    }
    return save_model(path, config, weights)


def test_uniform_model_has_the_vocabulary_as_perplexity(tmp_path):
    data = write_dataset(tmp_path / "data", num_train=4, num_eval=7)
    net = NumpyLSTM(*load_model(_model(tmp_path / "m", zero=True)))
    report = dataset_nll(net, data)
    assert report.nll_per_event == pytest.approx(math.log(polyphony.VOCAB_SIZE))
    assert report.perplexity == pytest.approx(polyphony.VOCAB_SIZE, rel=1e-6)
    assert report.num_sequences == 7


def test_nll_matches_one_sequence_at_a_time(tmp_path):
    data = write_dataset(tmp_path / "data", num_train=4, num_eval=7)
    net = NumpyLSTM(*load_model(_model(tmp_path / "m")))
    total, count = 0.0, 0
    for seq in load_dataset(data).eval:
        logits = net.forward(seq[None, :-1].astype(np.int64))[0].astype(np.float64)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total -= logp[np.arange(seq.size - 1), seq[1:]].sum()
        count += seq.size - 1
    report = dataset_nll(net, data)
    assert report.num_events == count
    assert report.nll_per_event == pytest.approx(total / count, rel=1e-5)
    part = dataset_nll(net, data, max_tokens=40)
    assert 1 <= part.num_sequences < 7


def _scale_pieces(num, seed):
    """Real-like pieces: C-major stepwise lines of eighth notes with a little variety."""
    rng = np.random.default_rng(seed)
    scale = np.array([60, 62, 64, 65, 67, 69, 71, 72])
    pieces = []
    for _ in range(num):
        count = int(rng.integers(24, 32))
        idx = np.clip(np.cumsum(rng.integers(-1, 2, count)) + 3, 0, 7)
        onset = np.arange(count) * 0.5
        pieces.append(Piece(onset, np.full(count, 0.5), scale[idx]))
    return pieces


def test_overlap_area_bounds():
    a = np.random.default_rng(0).normal(0, 1, 400)
    assert overlap_area(a, a) == pytest.approx(1.0, abs=1e-6)
    assert overlap_area(a, a + 100) < 0.01


def test_ceiling_model_floor_order():
    real = _scale_pieces(24, seed=0)
    rows = sample_quality(real, _scale_pieces(12, seed=1), seed=0)
    assert rows["ceiling"]["mean"] > rows["floor"]["mean"] + 0.2
    assert rows["model"]["mean"] > rows["floor"]["mean"] + 0.2  # a model that writes such lines
    noise = random_pieces(12, 16, 2.0, seed=5)
    assert sample_quality(real, noise, seed=0)["model"]["mean"] < rows["ceiling"]["mean"] - 0.2
    assert set(mean_overlap(real[:5], real[5:10])) >= {"pitch_count", "avg_ioi", "mean"}


def test_real_pieces_are_cut_to_the_same_length(tmp_path):
    paths = []
    for k in range(3):
        notes = tuple(
            Note(i * 240 + 480 * k, i * 240 + 480 * k + 240, 60 + i % 5) for i in range(64)
        )
        write_midi(Song(480, notes), tmp_path / f"p{k}.mid")
        paths.append(tmp_path / f"p{k}.mid")
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    pieces = real_pieces([*paths, tmp_path / "bad.mid"], num_steps=32)
    assert len(pieces) == 3
    for piece in pieces:
        assert piece.onset_qn[0] == 0  # from the first note
        assert piece.onset_qn.max() < 8  # 32 sixteenths


def test_cli_eval(tmp_path, runner):
    from chipline.cli import cli

    data = write_dataset(tmp_path / "data", num_train=4, num_eval=7)
    model = _model(tmp_path / "m")
    midi = tmp_path / "midi"
    midi.mkdir()
    for k in range(8):
        notes = tuple(Note(i * 240, i * 240 + 240, 60 + (i * k) % 12) for i in range(40))
        write_midi(Song(480, notes), midi / f"r{k}.mid")
    result = runner.invoke(
        cli,
        [
            "eval",
            str(model),
            "--dataset",
            str(data),
            "--reference",
            f"toy={midi}",
            "--num-samples",
            "4",
            "--steps",
            "32",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = report["sample_quality"]["toy"]
    assert 0 <= rows["floor"]["mean"] <= 1
    assert 0 <= rows["model"]["mean"] <= 1
    assert report["nll"][str(data)]["num_sequences"] == 7
    assert report["temperature"] == 1.0
    args = ["eval", str(model), "--reference", f"toy={midi}", "--num-samples", "4", "--steps", "32"]
    cold = runner.invoke(cli, [*args, "--temperature", "0.05", "--json"])
    assert cold.exit_code == 0, cold.output
    cold_rows = json.loads(cold.output)["sample_quality"]["toy"]
    assert cold_rows["model"] != rows["model"]  # other samples
    assert cold_rows["ceiling"] == rows["ceiling"]  # the same real pieces
    refused = runner.invoke(cli, [*args, "--temperature", "0"])
    assert refused.exit_code == 2
    assert "--temperature" in refused.output
    sharp = runner.invoke(cli, [*args, "--pitch-temperature", "0.05", "--json"])
    assert sharp.exit_code == 0, sharp.output
    report = json.loads(sharp.output)
    assert (report["temperature"], report["pitch_temperature"]) == (1.0, 0.05)
    assert report["sample_quality"]["toy"]["model"] != rows["model"]
    assert "pitches at 0.05" in runner.invoke(cli, [*args, "--pitch-temperature", "0.05"]).output


def test_chipvoice_samples_are_notes_of_the_asked_length():
    pieces = generated_pieces(tiny_model(), num=5, num_steps=40, seed=3)
    assert len(pieces) == 5
    assert any(p.pitch.size for p in pieces)
    for piece in pieces:
        if piece.pitch.size:
            assert piece.onset_qn[0] == 0
            assert piece.onset_qn.max() < 10
    again = generated_pieces(tiny_model(), num=5, num_steps=40, seed=3)
    assert all(np.array_equal(a.pitch, b.pitch) for a, b in zip(pieces, again, strict=True))


def test_samples_follow_the_temperature(tmp_path):
    poly = load_scored_model(_model(tmp_path / "poly"))
    for model in (poly, tiny_model()):
        hot, cold = (generated_pieces(model, 4, 32, seed=5, temperature=t) for t in (1.0, 0.05))
        assert [p.pitch.tolist() for p in hot] != [p.pitch.tolist() for p in cold]
        plain, sharp = (generated_pieces(model, 4, 32, 5, 1.0, p) for p in (None, 0.05))
        assert [p.pitch.tolist() for p in plain] != [p.pitch.tolist() for p in sharp]
    # nearly greedy, the polyphony model's unprimed samples no longer depend on the seed
    greedy = [generated_pieces(poly, 2, 32, seed=s, temperature=1e-4) for s in (1, 2)]
    assert [p.pitch.tolist() for p in greedy[0]] == [p.pitch.tolist() for p in greedy[1]]


def test_nll_refuses_a_dataset_of_another_codec(tmp_path):
    data = write_dataset(tmp_path / "data", num_train=4, num_eval=7)
    chip = load_scored_model(tiny_model_dir(tmp_path / "cv"))
    assert chip.codec == "chipvoice"
    with pytest.raises(ConfigError, match=r"data: a polyphony dataset.*--codec chipvoice"):
        dataset_nll(chip, data)
    assert load_scored_model(_model(tmp_path / "m")).codec == "polyphony"


def test_cli_eval_scores_a_chipvoice_model(tmp_path, runner):
    from chipline.cli import cli

    midi = tmp_path / "midi"
    midi.mkdir()
    for k in range(8):
        notes = tuple(Note(i * 240, i * 240 + 240, 60 + (i * k) % 12) for i in range(40))
        write_midi(Song(480, notes), midi / f"r{k}.mid")
    model = tiny_model_dir(tmp_path / "cv")
    args = ["eval", str(model), "--reference", f"toy={midi}", "--num-samples", "4"]
    result = runner.invoke(cli, [*args, "--steps", "32", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["sample_quality"]["toy"]
    assert 0 < rows["model"]["mean"] <= 1
    assert rows["num_real"] == 8
