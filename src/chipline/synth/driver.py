"""The sound driver: a ChipScore becomes a per-frame register script, one row per video frame.

Like the sound drivers of NES games and trackers, registers change once per frame (60.0988 Hz
NTSC, 50.007 Hz PAL): a note starts on the frame nearest its start time, volume envelopes and
arpeggios advance one step per frame (an arpeggio keeps cycling through the release). The
triangle has no volume: it runs while envelope × note volume is above 0 and halts otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.chip import VOICES, ChipNote, ChipScore, Instrument, VoiceKind
from chipline.synth import tables
from chipline.synth.tables import Region, RegionName

# Instruments for voices the score gives none: short decays for the pulses, a sustained triangle,
# a quick drum decay for the noise.
DEFAULT_INSTRUMENTS: dict[VoiceKind, Instrument] = {
    "pulse": Instrument(duty=2, envelope=(15, 14, 13, 12, 12, 11, 11, 10), release=(6, 3, 1)),
    "triangle": Instrument(duty=0, envelope=(15,), release=()),
    "noise": Instrument(
        duty=0, envelope=(15, 13, 11, 9, 8, 7, 6, 5, 4, 3, 3, 2, 2, 1, 1, 0), release=()
    ),
    "vrc6_pulse": Instrument(duty=3, envelope=(15, 14, 13, 12, 12, 11), release=(6, 3, 1)),
    "saw": Instrument(duty=0, envelope=(15, 14, 13, 12, 12, 11), release=(6, 3, 1)),
}


@dataclass(frozen=True)
class VoiceFrames:
    """One voice's register values per frame: int64 arrays of shape (num_frames,).

    `period` is the timer value (noise: the period in CPU cycles); `volume` 0..15 (0 silent;
    triangle: 15 while it runs, 0 halted); `duty` the duty index (noise: mode 0 long, 1 short).
    """

    name: str
    kind: VoiceKind
    period: npt.NDArray[np.int64]
    volume: npt.NDArray[np.int64]
    duty: npt.NDArray[np.int64]


def instrument_for(score: ChipScore, voice: str) -> Instrument:
    """The score's instrument for `voice`, or the default of its kind."""
    return score.instruments.get(voice, DEFAULT_INSTRUMENTS[VOICES[voice].kind])


def num_frames_for(num_samples: int, sample_rate: int, region: Region) -> int:
    """Frames needed to cover `num_samples` (plus one spare)."""
    return int(np.ceil(num_samples / sample_rate * region.frame_hz)) + 2


def release_frames(score: ChipScore) -> int:
    """The longest release among the score's voices, in frames."""
    return max((len(instrument_for(score, v).release) for v in score.voices), default=0)


def voice_frames(
    score: ChipScore, voice: str, num_frames: int, region_name: RegionName
) -> VoiceFrames:
    """The register script of one voice for `num_frames` frames."""
    region = tables.REGIONS[region_name]
    kind = VOICES[voice].kind
    inst = instrument_for(score, voice)
    notes = sorted((n for n in score.notes if n.voice == voice), key=lambda n: n.start_tick)
    zeros = np.zeros(num_frames, dtype=np.int64)
    if not notes:
        silent_period = np.full(num_frames, _periods(kind, np.array([69]), region_name)[0])
        return VoiceFrames(voice, kind, silent_period, zeros, zeros + inst.duty)
    start_f, end_f = _note_frames(score, notes, region)
    frame = np.arange(num_frames)
    idx = np.maximum(np.searchsorted(start_f, frame, side="right") - 1, 0)
    offset = frame - start_f[idx]
    level = _envelope_levels(inst, offset, frame - end_f[idx])
    level[offset < 0] = 0
    note_vol = np.array([n.volume for n in notes], dtype=np.int64)[idx]
    volume = _scale_volume(level, note_vol)
    if kind == "triangle":
        volume = np.where(volume > 0, 15, 0)
    pitch = _arpeggio_pitch(notes, idx, np.maximum(offset, 0))
    timbre = np.array([inst.duty if n.timbre is None else n.timbre for n in notes], dtype=np.int64)
    return VoiceFrames(voice, kind, _periods(kind, pitch, region_name), volume, timbre[idx])


def _note_frames(
    score: ChipScore, notes: list[ChipNote], region: Region
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    starts = score.tick_to_sec([n.start_tick for n in notes]) * region.frame_hz
    ends = score.tick_to_sec([n.end_tick for n in notes]) * region.frame_hz
    start_f = np.floor(starts + 0.5).astype(np.int64)
    end_f = np.maximum(np.floor(ends + 0.5).astype(np.int64), start_f + 1)
    return start_f, end_f


def _envelope_levels(
    inst: Instrument,
    offset: npt.NDArray[np.int64],
    after_end: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Envelope level per frame: attack/sustain while the note is held, then its release."""
    env = np.array(inst.envelope or (15,), dtype=np.int64)
    level = env[np.clip(offset, 0, len(env) - 1)]
    rel = np.array(inst.release + (0,), dtype=np.int64)
    released = rel[np.clip(after_end, 0, len(rel) - 1)]
    return np.where(after_end >= 0, released, level)


def _scale_volume(
    level: npt.NDArray[np.int64], note_vol: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Envelope × note volume / 15, never rounding an audible product down to silence."""
    product = np.clip(level, 0, 15) * np.clip(note_vol, 0, 15)
    return np.where(product > 0, np.maximum(product // 15, 1), 0)


def _arpeggio_pitch(
    notes: list[ChipNote], idx: npt.NDArray[np.int64], offset: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    lengths = np.array([max(len(n.pitches), 1) for n in notes], dtype=np.int64)
    firsts = np.cumsum(lengths) - lengths
    flat = np.array([p for n in notes for p in (n.pitches or (60,))], dtype=np.int64)
    return flat[firsts[idx] + offset % lengths[idx]]


def _periods(kind: VoiceKind, pitch: npt.NDArray[np.int64], region: RegionName) -> npt.NDArray:
    if kind == "pulse":
        return tables.pulse_period(pitch, region)
    if kind == "triangle":
        return tables.triangle_period(pitch, region)
    if kind == "vrc6_pulse":
        return tables.vrc6_pulse_period(pitch, region)
    if kind == "saw":
        return tables.saw_period(pitch, region)
    noise = np.array(tables.REGIONS[region].noise_periods, dtype=np.int64)
    return noise[np.clip(pitch, 0, 15)]
