"""chipline eval: held-out NLL per event, and Yang–Lerch sample quality with ceiling and floor."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chipline.dataset import load_dataset
from chipline.encoding import polyphony
from chipline.evaluate import dataset_nll, real_pieces, sample_quality
from chipline.model.checkpoint import expected_shapes, load_model, model_config, save_model
from chipline.model.infer import NumpyLSTM
from chipline.score import Note, Song, write_midi
from chipline.yanglerch import Piece, mean_overlap, overlap_area, random_pieces


def _write_dataset(path, seed=0):
    rng = np.random.default_rng(seed)
    path.mkdir()
    for split, count in (("training", 4), ("eval", 7)):
        pieces = []
        for _ in range(count):
            steps = [
                [int(p) for p in rng.choice(np.arange(50, 70), 2, replace=False)]
                for _ in range(int(rng.integers(3, 30)))
            ]
            tokens = [polyphony.START]
            for step in steps:
                tokens += [polyphony.new_note(p) for p in sorted(step, reverse=True)]
                tokens.append(polyphony.STEP_END)
            pieces.append([*tokens, polyphony.END])
        np.savez(
            path / f"{split}_poly_tracks.npz",
            tokens=np.concatenate(pieces).astype(np.uint16),
            offsets=np.cumsum([0] + [len(p) for p in pieces]).astype(np.int64),
            piece=np.arange(count, dtype=np.int32),
        )
    meta = {
        "format": "chipline-dataset",
        "format_version": 1,
        "codec": "polyphony",
        "codec_version": 1,
        "vocab_size": 259,
        "files": [f"f{i}.mid" for i in range(7)],
    }
    (path / "meta.json").write_text(json.dumps(meta))
    return path


def _model(path, zero=False):
    config = model_config([12, 12], polyphony.VOCAB_SIZE, dropout=0.0)
    rng = np.random.default_rng(1)
    weights = {
        k: (np.zeros(s) if zero else rng.standard_normal(s) * 0.5).astype(np.float32)
        for k, s in expected_shapes(config).items()
    }
    return save_model(path, config, weights)


def test_uniform_model_has_the_vocabulary_as_perplexity(tmp_path):
    data = _write_dataset(tmp_path / "data")
    net = NumpyLSTM(*load_model(_model(tmp_path / "m", zero=True)))
    report = dataset_nll(net, data)
    assert report.nll_per_event == pytest.approx(math.log(polyphony.VOCAB_SIZE))
    assert report.perplexity == pytest.approx(polyphony.VOCAB_SIZE, rel=1e-6)
    assert report.num_sequences == 7


def test_nll_matches_one_sequence_at_a_time(tmp_path):
    data = _write_dataset(tmp_path / "data")
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

    data = _write_dataset(tmp_path / "data")
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
