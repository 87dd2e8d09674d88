"""Output filter profiles: the analog stages after the chip's DAC, as first-order IIR sections.

NESdev "APU Mixer": the NES front-loader has a 90 Hz and a 440 Hz first-order high-pass and a
14 kHz first-order low-pass; the Famicom a 37 Hz high-pass. `clean` only blocks DC (20 Hz).
Each stage is the bilinear transform of the analog one-pole with the cutoff pre-warped, so its
−3 dB point falls exactly on the nominal frequency.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def filter_increments(
    blocks: Iterable[npt.NDArray[np.float64]],
    offset: int,
    num_samples: int,
    name: FilterName,
    sample_rate: int,
) -> npt.NDArray[np.float32]:
    """Integrate first differences (given in blocks) and filter, block by block.

    Every profile starts with a high-pass (1 − z⁻¹)·b0 / (1 + a1 z⁻¹); after an integrator
    1 / (1 − z⁻¹) the pair is the one-pole b0 / (1 + a1 z⁻¹), so integration costs nothing.
    Returns float32, shape (num_samples,), clipped to [-1, 1]: samples `offset` …
    `offset + num_samples − 1` of the filtered integral.
    """
    sections = profile_sos(name, sample_rate)
    assert sections[0][1] == -sections[0][0], "the first stage of every profile is a high-pass"
    coefs = [(sections[0][:1], sections[0][3:5])]
    coefs += [(sec[:2], sec[3:5]) for sec in sections[1:]]
    states = [np.zeros(1) for _ in coefs]
    out = np.empty(num_samples, dtype=np.float32)
    pos = -offset  # output index of the block's first entry
    for block in blocks:
        y = block
        for k, (b, a) in enumerate(coefs):
            y, states[k] = signal.lfilter(b, a, y, zi=states[k])
        lo, hi = max(pos, 0), min(pos + len(y), num_samples)
        if hi > lo:
            np.clip(y[lo - pos : hi - pos], -1.0, 1.0, out=out[lo:hi], casting="same_kind")
        pos += len(y)
    return out
