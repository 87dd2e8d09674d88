"""Loop-seam measures: NLL across the seam by hand, and spectral change at a loop point."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "generate"))
from chipvoice_models import tiny_model  # noqa: E402

from chipline.errors import RenderError  # noqa: E402
from chipline.generate.chipvoice import Controls, generate  # noqa: E402
from chipline.loopseam import (  # noqa: E402
    audio_seam,
    chipvoice_token_seam,
    ogg_loop_points,
    wrapped_nll,
)

SR = 44100


def _step_nll(model, seq):
    """NLL of each token after the first, one model step at a time."""
    state, out = model.initial_state(1), []
    for a, b in zip(seq, seq[1:], strict=False):
        logits, state = model.step(np.array([a]), state)
        z = logits[0].astype(np.float64)
        out.append(np.log(np.exp(z - z.max()).sum()) + z.max() - z[b])
    return np.array(out)


def test_wrapped_nll_scores_the_right_tokens():
    model = tiny_model()
    piece, follow = [0, 6, 9, 40, 61, 70], [2, 90, 100]
    nll = _step_nll(model, piece + follow)
    seam = wrapped_nll(model, piece, follow, inside_from=3, skip=1)
    assert seam.seam == pytest.approx(nll[6:].mean(), rel=1e-5)
    assert seam.inside == pytest.approx(nll[2:5].mean(), rel=1e-5)


def test_chipvoice_seam_is_finite_for_generated_loops():
    model = tiny_model()
    for tokens in generate(model, Controls(num_bars=3, intro_bars=1), 3, np.random.default_rng(2)):
        seam = chipvoice_token_seam(model, tokens)
        assert np.isfinite(seam.seam)
        assert seam.inside > 0


def _tone(hz: float, num: int, start: int = 0) -> np.ndarray:
    t = np.arange(start, start + num) / SR
    return (0.3 * np.sign(np.sin(2 * np.pi * hz * t))).astype(np.float32)


def test_a_seamless_loop_scores_like_its_bar_lines_and_a_jump_does_not():
    bar = SR // 2
    steady = _tone(441.0, 8 * bar)  # a whole number of periods per bar
    smooth = audio_seam(steady, 0, 8 * bar, bar)
    assert smooth.seam < 0.05
    jump = np.concatenate([_tone(441.0, 7 * bar), _tone(1234.0, bar)])
    rough = audio_seam(jump, 0, 8 * bar, bar)
    assert rough.seam > 0.5
    assert rough.ratio > 5 * max(smooth.ratio, 1.0)


def test_loop_points_are_read_from_vorbis_comments(tmp_path):
    path = tmp_path / "a.ogg"
    path.write_bytes(b"OggS....\x03vorbis LOOPSTART=123 LOOPLENGTH=4567 ...")
    assert ogg_loop_points(path) == (123, 4567)
    path.write_bytes(b"OggS no loop here")
    with pytest.raises(RenderError, match="LOOPSTART"):
        ogg_loop_points(path)
