"""2A03 and VRC6 constants: clocks, frame timing, period formulas, waveform and noise tables.

Sources: NESdev wiki pages "Cycle reference chart" (clocks), "APU Pulse", "APU Triangle",
"APU Noise", "APU period table" and "VRC6 audio". Period values follow the note-table rule of the
common trackers, t = round(f_CPU / (k · f)) − 1, with k = 16 for the pulse and 32 for the
triangle, clamped to the register width.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt

RegionName = Literal["ntsc", "pal"]


@dataclass(frozen=True)
class Region:
    """Clock and frame timing of one console region.

    `frame_cycles2` is twice the CPU cycles per video frame (an odd integer: NTSC frames are
    29780.5 cycles long), so frame k starts at cycle `k * frame_cycles2 // 2`.
    """

    name: str
    cpu_hz: float
    frame_cycles2: int
    noise_periods: tuple[int, ...]

    @property
    def frame_hz(self) -> float:
        return 2.0 * self.cpu_hz / self.frame_cycles2


REGIONS: dict[str, Region] = {
    # 21.477272 MHz / 12; 341 · 262 / 3 − 0.5 cycles per frame (60.0988 Hz).
    "ntsc": Region(
        "ntsc",
        21_477_272.0 / 12.0,
        59_561,
        (4, 8, 16, 32, 64, 96, 128, 160, 202, 254, 380, 508, 762, 1016, 2034, 4068),
    ),
    # 26.601712 MHz / 16; 341 · 312 / 3.2 cycles per frame (50.007 Hz).
    "pal": Region(
        "pal",
        26_601_712.0 / 16.0,
        66_495,
        (4, 8, 14, 30, 60, 88, 118, 148, 188, 236, 354, 472, 708, 944, 1890, 3778),
    ),
}

# Pulse duty sequences as the sequencer plays them (NESdev "APU Pulse": it counts down, so the
# table rows read as 0 1 0 0 0 0 0 0 etc.; here in play order).
PULSE_DUTY: tuple[tuple[int, ...], ...] = (
    (0, 1, 0, 0, 0, 0, 0, 0),  # 12.5 %
    (0, 1, 1, 0, 0, 0, 0, 0),  # 25 %
    (0, 1, 1, 1, 1, 0, 0, 0),  # 50 %
    (1, 0, 0, 1, 1, 1, 1, 1),  # 75 % (25 % negated)
)
# The 32-step triangle sequence 15..0, 0..15.
TRIANGLE_STEPS: tuple[int, ...] = tuple(range(15, -1, -1)) + tuple(range(16))
# The sequence position where the triangle rests before its first note: level 0, so a render
# starts without a DC step.
TRIANGLE_START_STEP = 16
NUM_VRC6_PULSE_STEPS = 16
NUM_SAW_STEPS = 7
SAW_FULL_RATE = 42  # accumulator rate at full volume; larger rates overflow the 8-bit accumulator

PULSE_PERIOD_MAX = 0x7FF
PULSE_PERIOD_MIN = 8  # smaller periods are muted by the sweep unit
VRC6_PERIOD_MAX = 0xFFF

# The tracker note range: 96 notes from C1 (MIDI 24) to B8 (MIDI 119); trackers label it C-0..B-7.
TABLE_LOW_MIDI = 24
NUM_TABLE_NOTES = 96


def midi_to_hz(midi: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Equal-tempered frequency of MIDI pitch(es), A4 (69) = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _period(
    midi: npt.ArrayLike, cpu_hz: float, cycles_per_wave: int, top: int
) -> npt.NDArray[np.int64]:
    t = np.floor(cpu_hz / (cycles_per_wave * midi_to_hz(midi)) + 0.5).astype(np.int64) - 1
    return np.clip(t, 0, top)


def pulse_period(midi: npt.ArrayLike, region: RegionName = "ntsc") -> npt.NDArray[np.int64]:
    """11-bit pulse timer value t for MIDI pitch(es): f = f_CPU / (16 (t + 1))."""
    return _period(midi, REGIONS[region].cpu_hz, 16, PULSE_PERIOD_MAX)


def triangle_period(midi: npt.ArrayLike, region: RegionName = "ntsc") -> npt.NDArray[np.int64]:
    """11-bit triangle timer value t for MIDI pitch(es): f = f_CPU / (32 (t + 1))."""
    return _period(midi, REGIONS[region].cpu_hz, 32, PULSE_PERIOD_MAX)


def vrc6_pulse_period(midi: npt.ArrayLike, region: RegionName = "ntsc") -> npt.NDArray[np.int64]:
    """12-bit VRC6 pulse period F for MIDI pitch(es): f = f_CPU / (16 (F + 1))."""
    return _period(midi, REGIONS[region].cpu_hz, 16, VRC6_PERIOD_MAX)


def saw_period(midi: npt.ArrayLike, region: RegionName = "ntsc") -> npt.NDArray[np.int64]:
    """12-bit VRC6 sawtooth period F for MIDI pitch(es): f = f_CPU / (14 (F + 1))."""
    return _period(midi, REGIONS[region].cpu_hz, 14, VRC6_PERIOD_MAX)


def note_table(region: RegionName = "ntsc") -> npt.NDArray[np.int64]:
    """The tracker pulse note table: int64, shape (96,), timer values for MIDI 24..119."""
    return pulse_period(np.arange(TABLE_LOW_MIDI, TABLE_LOW_MIDI + NUM_TABLE_NOTES), region)


@cache
def lfsr_off_bits(short_mode: bool) -> npt.NDArray[np.int8]:
    """One period of the noise LFSR from the power-up state 1, as output gates.

    Returns int8, shape (32767,) in long mode or (93,) in short mode: 1 where the channel
    outputs its volume (bit 0 clear), 0 where it is silent.
    """
    tap = 6 if short_mode else 1
    state = 1
    gates = []
    while True:
        gates.append(1 - (state & 1))
        feedback = (state ^ (state >> tap)) & 1
        state = (state >> 1) | (feedback << 14)
        if state == 1:
            break
    return np.array(gates, dtype=np.int8)
