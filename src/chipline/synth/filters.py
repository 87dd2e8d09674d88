"""Output filter profiles: the analog stages after the chip's DAC, as first-order IIR sections.

NESdev "APU Mixer": the NES front-loader has a 90 Hz and a 440 Hz first-order high-pass and a
14 kHz first-order low-pass; the Famicom a 37 Hz high-pass. `clean` only blocks DC (20 Hz).
Each stage is the bilinear transform of the analog one-pole with the cutoff pre-warped, so its
−3 dB point falls exactly on the nominal frequency.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

FilterName = Literal["clean", "famicom", "nes"]
Stage = tuple[Literal["highpass", "lowpass"], float]

PROFILES: dict[str, tuple[Stage, ...]] = {
    "clean": (("highpass", 20.0),),
    "famicom": (("highpass", 37.0),),
    "nes": (("highpass", 90.0), ("highpass", 440.0), ("lowpass", 14_000.0)),
}


def stage_sos(
    kind: Literal["highpass", "lowpass"], cutoff_hz: float, sample_rate: int
) -> np.ndarray:
    """One first-order stage as a second-order section: float64, shape (1, 6)."""
    k = np.tan(np.pi * min(cutoff_hz, 0.49 * sample_rate) / sample_rate)
    if kind == "highpass":
        b = np.array([1.0, -1.0, 0.0]) / (1.0 + k)
    else:
        b = np.array([k, k, 0.0]) / (1.0 + k)
    a = np.array([1.0, (k - 1.0) / (k + 1.0), 0.0])
    return np.concatenate([b, a])[None, :]


def profile_sos(name: FilterName, sample_rate: int) -> np.ndarray:
    """All stages of a profile: float64, shape (num_stages, 6)."""
    return np.concatenate([stage_sos(kind, hz, sample_rate) for kind, hz in PROFILES[name]])


def apply(
    x: npt.NDArray[np.float64], name: FilterName, sample_rate: int
) -> npt.NDArray[np.float64]:
    """Filter `x` (float64, shape (n,)) from rest: the chip output is 0 before the piece."""
    if len(x) == 0:
        return x.copy()
    y = x
    for section in profile_sos(name, sample_rate):  # lfilter per stage: faster than sosfilt
        y = signal.lfilter(section[:2], section[3:5], y)
    return y


def apply_to_increments(
    incr: npt.NDArray[np.float64], offset: int, num_samples: int, name: FilterName, sample_rate: int
) -> npt.NDArray[np.float64]:
    """Integrate first differences `incr` and filter, in one pass less than cumsum + `apply`.

    Every profile starts with a high-pass (1 − z⁻¹)·b0 / (1 + a1 z⁻¹); after an integrator
    1 / (1 − z⁻¹) the pair is the one-pole b0 / (1 + a1 z⁻¹). Returns float64, shape
    (num_samples,): samples `offset` … `offset + num_samples − 1` of the filtered integral.
    """
    sections = profile_sos(name, sample_rate)
    first = sections[0]
    assert first[1] == -first[0], "the first stage of every profile is a high-pass"
    y = signal.lfilter(first[:1], first[3:5], incr)
    for section in sections[1:]:
        y = signal.lfilter(section[:2], section[3:5], y)
    return y[offset : offset + num_samples]
