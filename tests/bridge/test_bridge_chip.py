"""The built-in back end renders a request to exactly the requested number of samples."""

from __future__ import annotations

import numpy as np

from chipline.bridge.base import Backend, RenderRequest
from chipline.bridge.chip import ChipBackend
from chipline.chip import ChipNote, ChipScore
from chipline.score import Tempo, TimeSignature


def test_chip_backend_renders_requested_length(tmp_path):
    score = ChipScore(
        "nes",
        480,
        (ChipNote("Pulse 1", 0, 480, (69,)),),
        (Tempo(0, 500_000),),
        (TimeSignature(0),),
        960,
    )
    backend: Backend = ChipBackend(filter="nes")
    request = RenderRequest(score, tmp_path / "a.mid", tmp_path, 48000, 30000)
    y = backend.render(request)
    assert backend.name == "chip"
    assert y.shape == (30000,)
    assert y.dtype == np.float32
    assert 0.05 < np.abs(y).max() <= 1.0
