"""Tiny random-weight chip-voice LSTMs for tests: as a NumpyLSTM and as a model dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chipline.encoding import chipvoice as cv
from chipline.model.checkpoint import model_config, save_model
from chipline.model.infer import NumpyLSTM


def random_weights(layer_sizes: tuple[int, ...] = (16,), seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = (cv.VOCAB_SIZE, *layer_sizes)
    weights = {}
    for k, (n_in, hidden) in enumerate(zip(sizes, sizes[1:], strict=False)):
        weights[f"lstm.weight_ih_l{k}"] = rng.normal(0, 0.3, (4 * hidden, n_in))
        weights[f"lstm.weight_hh_l{k}"] = rng.normal(0, 0.3, (4 * hidden, hidden))
        weights[f"lstm.bias_ih_l{k}"] = rng.normal(0, 0.1, 4 * hidden)
        weights[f"lstm.bias_hh_l{k}"] = np.zeros(4 * hidden)
    weights["head.weight"] = rng.normal(0, 1.0, (cv.VOCAB_SIZE, sizes[-1]))
    weights["head.bias"] = rng.normal(0, 0.5, cv.VOCAB_SIZE)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def tiny_model(seed: int = 0) -> NumpyLSTM:
    config = model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME)
    return NumpyLSTM(config, random_weights(seed=seed))


def tiny_model_dir(path: Path, seed: int = 0) -> Path:
    config = model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME)
    save_model(path, config, random_weights(seed=seed))
    return path
