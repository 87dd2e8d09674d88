"""A small model for the make tests: random LSTM weights, a head biased towards a few pitches."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chipline.encoding import polyphony
from chipline.model.checkpoint import expected_shapes, model_config, save_model

SCALE = (60, 62, 64, 65, 67, 69, 71, 72)  # C major: what the biased head mostly plays


def tiny_model(path: Path, notes: bool = True, seed: int = 0) -> Path:
    """A 2x16 LSTM model dir. With `notes` it favours C-major notes and about one per step;
    without, it almost only ends steps, so it writes (nearly) silent pieces."""
    config = model_config([16, 16], polyphony.VOCAB_SIZE, dropout=0.0)
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) * 0.1).astype(np.float32)
        for name, shape in expected_shapes(config).items()
    }
    bias = np.full(polyphony.VOCAB_SIZE, -6.0, np.float32)
    bias[polyphony.STEP_END] = 1.0 if notes else 12.0
    for pitch in SCALE:
        bias[polyphony.new_note(pitch)] = 0.5 if notes else -12.0
        bias[polyphony.continued_note(pitch)] = 1.5 if notes else -12.0
    weights["head.bias"] = bias
    return save_model(path, config, weights)
