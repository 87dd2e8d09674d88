"""The noise kit: General MIDI drum keys (channel 10) → noise period index, mode, volume, length."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from chipline.chip import ChipNote
from chipline.score import Note


@dataclass(frozen=True)
class Drum:
    """One noise sound: period index (0 highest .. 15 lowest), mode (0 long, 1 short/metallic),
    volume at velocity 127, length in frames, and priority when several drums hit at once."""

    name: str
    period: int
    mode: int
    volume: int
    num_frames: int
    priority: int


KICK = Drum("kick", 12, 0, 15, 6, 5)
SNARE = Drum("snare", 7, 0, 14, 9, 6)
CLAP = Drum("clap", 6, 0, 12, 7, 4)
SIDE_STICK = Drum("side stick", 4, 0, 10, 3, 3)
CLOSED_HAT = Drum("closed hat", 1, 0, 9, 3, 1)
PEDAL_HAT = Drum("pedal hat", 2, 0, 7, 2, 1)
OPEN_HAT = Drum("open hat", 2, 0, 10, 14, 2)
CRASH = Drum("crash", 3, 0, 13, 40, 7)
RIDE = Drum("ride", 1, 0, 9, 18, 2)
RIDE_BELL = Drum("ride bell", 3, 1, 9, 10, 2)
TOM_LOW = Drum("low tom", 11, 0, 13, 10, 4)
TOM_MID = Drum("mid tom", 10, 0, 13, 10, 4)
TOM_HIGH = Drum("high tom", 9, 0, 13, 10, 4)
SHAKER = Drum("shaker", 2, 0, 7, 3, 0)
METAL = Drum("metal", 4, 1, 8, 6, 0)

# GM percussion keys (channel 10); any other key plays `SHAKER`.
KIT: dict[int, Drum] = {
    35: KICK, 36: KICK, 37: SIDE_STICK, 38: SNARE, 39: CLAP, 40: SNARE,
    41: TOM_LOW, 43: TOM_LOW, 45: TOM_MID, 47: TOM_MID, 48: TOM_HIGH, 50: TOM_HIGH,
    42: CLOSED_HAT, 44: PEDAL_HAT, 46: OPEN_HAT,
    49: CRASH, 52: CRASH, 55: CRASH, 57: CRASH,
    51: RIDE, 59: RIDE, 53: RIDE_BELL,
    56: METAL, 80: METAL, 81: METAL,
}  # fmt: skip
DEFAULT_DRUM = SHAKER


def velocity_volume(volume_at_127: int, velocity: int) -> int:
    """4-bit volume for a MIDI velocity: `volume_at_127 * sqrt(velocity / 127)`, at least 1."""
    scaled = volume_at_127 * math.sqrt(max(1, min(velocity, 127)) / 127)
    return max(1, min(15, round(scaled)))


def drum_notes(
    notes: Sequence[Note],
    end_tick: int,
    frames_to_tick: Callable[[int, float], int],
    voice: str = "Noise",
    volume_scale: int = 15,
) -> list[ChipNote]:
    """One noise note per drum onset (the loudest-priority drum of simultaneous hits).

    A note lasts its drum's length in frames (`frames_to_tick(start_tick, num_frames)` gives the
    end tick), cut at the next hit and at `end_tick`. `volume_scale` (0..15) scales every volume.
    """
    onsets = [
        (tick, max(group, key=lambda n: (KIT.get(n.pitch, DEFAULT_DRUM).priority, n.velocity)))
        for tick, group in groupby(sorted(notes), key=lambda n: n.start_tick)
    ]
    out = []
    for k, (tick, note) in enumerate(onsets):
        if tick >= end_tick:
            break
        drum = KIT.get(note.pitch, DEFAULT_DRUM)
        stop = min(frames_to_tick(tick, drum.num_frames), end_tick)
        if k + 1 < len(onsets):
            stop = min(stop, onsets[k + 1][0])
        volume = velocity_volume(drum.volume * volume_scale // 15, note.velocity)
        out.append(ChipNote(voice, tick, max(stop, tick + 1), (drum.period,), volume, drum.mode))
    return out
