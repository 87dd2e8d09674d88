"""Konami VRC6 expansion voices: the 16-step pulse with 8 duty levels and the sawtooth.

NESdev "VRC6 audio": a pulse with duty D (0..7) outputs its volume for D + 1 of 16 steps; the
saw adds its rate A to an 8-bit accumulator on 6 of 7 steps, resets it on the 7th, and outputs
the accumulator's top 5 bits. Volume 0..15 maps to A = round(42 · volume / 15): 42 is the
largest rate that never overflows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from chipline.synth import tables
from chipline.synth.driver import VoiceFrames

IntArray = npt.NDArray[np.int64]

# Duty D: the output is high on sequencer steps 0..D of 16.
PULSE_DUTY: IntArray = (
    np.arange(tables.NUM_VRC6_PULSE_STEPS)[None, :] <= np.arange(8)[:, None]
).astype(np.int64)


def saw_rate(volume: npt.ArrayLike) -> IntArray:
    """Accumulator rate A (0..42) for a 4-bit volume."""
    v = np.clip(np.asarray(volume, dtype=np.int64), 0, 15)
    return (v * tables.SAW_FULL_RATE * 2 + 15) // 30


def saw_level_at(frames: VoiceFrames) -> Callable[[IntArray, IntArray], IntArray]:
    """Level (0..31) of the VRC6 saw at sequencer positions in the given frames."""
    rate = saw_rate(frames.volume)

    def level_at(pos: IntArray, frame: IntArray) -> IntArray:
        return ((pos % tables.NUM_SAW_STEPS) * rate[frame]) >> 3

    return level_at
