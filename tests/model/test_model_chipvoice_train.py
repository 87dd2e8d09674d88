"""`train` on a chip-voice dataset: the model takes its codec and vocabulary from the dataset."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chipline.dataset import load_dataset  # noqa: E402
from chipline.dataset.chipvoice import ChipVoiceDatasetConfig, build_chipvoice_dataset  # noqa: E402
from chipline.encoding import chipvoice as cv  # noqa: E402
from chipline.generate.chipvoice import Controls, generate  # noqa: E402
from chipline.model.checkpoint import load_model  # noqa: E402
from chipline.model.infer import NumpyLSTM  # noqa: E402
from chipline.model.lstm import PRESETS  # noqa: E402
from chipline.model.train import TrainConfig, train  # noqa: E402
from chipline.score import Note, Song, write_midi  # noqa: E402


def test_train_reads_the_codec_from_the_dataset(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(2):
        notes = [Note(b * 480, b * 480 + 480, p + i + b % 3) for b in range(32) for p in (60, 64)]
        write_midi(Song(480, notes=tuple(sorted(notes))), folder / f"p{i}.mid")
    cfg = ChipVoiceDatasetConfig(eval_ratio=0.0, num_workers=1, transpose_min=0, transpose_max=1)
    build_chipvoice_dataset(folder, tmp_path / "ds", cfg)
    run = TrainConfig(model=PRESETS["tiny"], batch_size=2, window=32, num_training_steps=2,
                      checkpoint_every=2, device="cpu", num_threads=1)  # fmt: skip
    last = train(run, tmp_path / "ds", tmp_path / "run")
    config, weights = load_model(last)
    assert (config["codec"], config["vocab_size"]) == ("chipvoice", cv.VOCAB_SIZE)
    assert config["key_prior"] == load_dataset(tmp_path / "ds").meta["key_prior"]
    model = NumpyLSTM(config, weights)
    out = generate(model, Controls(num_bars=1, num_candidates=1), 1, np.random.default_rng(0))
    assert cv.decode(out[0]).end_tick == 16
    assert dataclasses.replace(PRESETS["tiny"]).codec == "polyphony"
