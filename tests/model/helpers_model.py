"""Builders shared by the model tests: random model weights and fixture datasets on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chipline.model.checkpoint import expected_shapes, model_config, save_model


def random_model(
    path: Path, layer_sizes: list[int], vocab_size: int = 259, seed: int = 0
) -> tuple[dict, dict[str, np.ndarray]]:
    """Save a model dir with random float32 weights (scale 0.3) and return (config, weights)."""
    config = model_config(layer_sizes, vocab_size, dropout=0.0)
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) * 0.3).astype(np.float32)
        for name, shape in expected_shapes(config).items()
    }
    save_model(path, config, weights)
    return config, weights


def random_piece(rng: np.random.Generator, num_steps: int) -> list[int]:
    """A grammatical polyphony token sequence: START, steps of descending new notes, END."""
    tokens = [0]
    held: list[int] = []
    for _ in range(num_steps):
        pitches = sorted(rng.choice(np.arange(48, 80), rng.integers(0, 4), replace=False))[::-1]
        for p in pitches:
            tokens.append((131 if p in held else 3) + int(p))
        held = [int(p) for p in pitches]
        tokens.append(2)
    tokens.append(1)
    return tokens


def write_dataset(path: Path, num_train: int = 24, num_eval: int = 6, seed: int = 0) -> Path:
    """A small dataset folder in the chipline-dataset v1 format."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    for split, count in (("training", num_train), ("eval", num_eval)):
        pieces = [random_piece(rng, int(rng.integers(8, 40))) for _ in range(count)]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
        np.savez(
            path / f"{split}_poly_tracks.npz",
            tokens=np.concatenate(pieces).astype(np.uint16),
            offsets=offsets,
            piece=np.arange(count, dtype=np.int32),
        )
    meta = {
        "format": "chipline-dataset",
        "format_version": 1,
        "codec": "polyphony",
        "codec_version": 1,
        "vocab_size": 259,
        "files": [f"piece{i}.mid" for i in range(max(num_train, num_eval))],
    }
    (path / "meta.json").write_text(json.dumps(meta))
    return path
