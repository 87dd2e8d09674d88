"""A tiny random model written in the real model format, for generation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chipline.model.checkpoint import expected_shapes, model_config, save_model


def tiny_model(path: Path, layer_sizes=(16, 16), seed: int = 0, step_end_bias: float = 2.0) -> Path:
    """Random weights; a bias towards STEP_END keeps steps short, as a trained model does."""
    config = model_config(list(layer_sizes), 259, 0.0)
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) * 0.3).astype(np.float32)
        for name, shape in expected_shapes(config).items()
    }
    weights["head.bias"][2] += step_end_bias
    return save_model(path, config, weights)
