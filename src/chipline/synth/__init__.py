"""The built-in NES (2A03) synthesizer, with the Konami VRC6 voices: pure numpy, deterministic.

`render(score)` plays a ChipScore the way a sound driver plays a tracker module: registers
change once per video frame, the timers run at the exact CPU clock, the nonlinear mixer combines
the voices, and every level change becomes a band-limited step, so the output has no aliasing
from the resampling to `sample_rate`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipScore
from chipline.synth.engine import (
    DEFAULT_CONFIG,
    SynthConfig,
    default_num_samples,
    render_mix,
    render_voices,
)

__all__ = ["SynthConfig", "default_num_samples", "render", "render_stems"]


def render(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> npt.NDArray[np.float32]:
    """Render `score` to mono audio: float32, shape (num_samples,), in [-1, 1].

    `num_samples` defaults to the piece (`end_tick`) plus the longest release and a short tail.
    Raises RenderError for notes on voices the score's chip lacks.
    """
    return render_mix(score, config, num_samples)


def render_stems(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> dict[str, npt.NDArray[np.float32]]:
    """One track per voice (voice name → float32, shape (num_samples,), in [-1, 1]).

    Each stem is its voice through the mixer with the other voices silent, then the same output
    filter. They sum to the mix up to the mixer's nonlinearity: the two pulses share one
    compressive curve, so their sum is a few per cent louder than the mix where both sound.
    """
    return render_voices(score, config, num_samples)
