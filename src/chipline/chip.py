"""The chip's voices and the per-voice score that `arrange` writes and the renderers play.

Voice names are a contract: the arranged MIDI has one track per voice with exactly these names,
and REAPER templates find their instrument tracks by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from chipline.score import Tempo, TimeSignature, ticks_to_sec

VoiceKind = Literal["pulse", "triangle", "noise", "vrc6_pulse", "saw"]
ChipName = Literal["nes", "vrc6"]


@dataclass(frozen=True)
class Voice:
    """One chip channel: its name (the track-name contract), kind and playable MIDI range."""

    name: str
    kind: VoiceKind
    low: int  # lowest MIDI pitch it plays (noise: period index 0)
    high: int  # highest MIDI pitch it plays (noise: period index 15)


VOICES: dict[str, Voice] = {
    v.name: v
    for v in (
        Voice("Pulse 1", "pulse", 33, 108),
        Voice("Pulse 2", "pulse", 33, 108),
        Voice("Triangle", "triangle", 21, 96),
        Voice("Noise", "noise", 0, 15),
        Voice("VRC6 Pulse 1", "vrc6_pulse", 24, 108),
        Voice("VRC6 Pulse 2", "vrc6_pulse", 24, 108),
        Voice("VRC6 Saw", "saw", 24, 96),
    )
}

CHIP_VOICES: dict[str, tuple[str, ...]] = {
    "nes": ("Pulse 1", "Pulse 2", "Triangle", "Noise"),
    "vrc6": ("Pulse 1", "Pulse 2", "Triangle", "Noise", "VRC6 Pulse 1", "VRC6 Pulse 2", "VRC6 Saw"),
}


@dataclass(frozen=True)
class Instrument:
    """How a voice sounds: duty and a volume envelope stepped at the chip's frame rate.

    `envelope` holds 4-bit volumes (0..15) for the first frames of a note; the last value is held
    until the note ends, then `release` holds volumes played after it (possibly empty).
    """

    duty: int = 2  # pulse: 0..3 (12.5, 25, 50, 75 %); VRC6 pulse: 0..7; noise: 0 long, 1 short
    envelope: tuple[int, ...] = (15,)
    release: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChipNote:
    """One note on one voice. Several `pitches` make an arpeggio, one pitch per frame in turn.

    For the noise voice a pitch is the period index 0..15 (0 highest) and `timbre` the mode.
    """

    voice: str
    start_tick: int
    end_tick: int
    pitches: tuple[int, ...]
    volume: int = 15  # 0..15; scales the instrument envelope (the triangle has no volume)
    timbre: int | None = None  # duty or noise mode for this note; None = the instrument's


@dataclass(frozen=True)
class ChipScore:
    """A piece arranged for a chip: monophonic notes per voice, the tempo map, the loop length.

    Notes of one voice never overlap. `end_tick` is the end of the piece on a bar line: with
    looping on, the loop body runs from `loop_start_tick` to `end_tick`.
    """

    chip: ChipName
    ticks_per_beat: int
    notes: tuple[ChipNote, ...]
    tempos: tuple[Tempo, ...]
    time_signatures: tuple[TimeSignature, ...]
    end_tick: int
    loop_start_tick: int = 0
    instruments: dict[str, Instrument] = field(default_factory=dict)

    @property
    def voices(self) -> tuple[str, ...]:
        return CHIP_VOICES[self.chip]

    def tick_to_sec(self, ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Seconds at `ticks` (scalar or array), following the tempo map."""
        return ticks_to_sec(ticks, self.tempos, self.ticks_per_beat)
