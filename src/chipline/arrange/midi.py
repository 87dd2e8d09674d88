"""The arranged MIDI: a `ChipScore` as a playable multi-track `Song`, and back.

Conventions (any instrument plays the file like the chip; `from_song` reads it back exactly):

- One track per voice of the chip, in `ChipScore.voices` order, named exactly `Pulse 1`,
  `Pulse 2`, `Triangle`, `Noise` (+ `VRC6 Pulse 1`, `VRC6 Pulse 2`, `VRC6 Saw`). The first
  track also holds the tempo map and time signatures; the file ends at the loop end (a bar line).
- Each voice has its own MIDI channel (`CHANNELS`; the noise is on channel 10) and a General MIDI
  program that sounds roughly like it (`PROGRAMS`: square lead, synth bass, saw lead).
- Volume 0..15 is the velocity `max(2, round(volume * 127 / 15))`, so volume 15 is 127.
- An arpeggio is written as the chip plays it: one MIDI note per frame (60.0988 Hz from the note
  start; at least one tick each), cycling through its pitches. The first note of an arpeggio has
  the volume's velocity; the following ones have that velocity minus 1 (inaudible, and how a
  reader tells one arpeggio from the next).
- The noise voice's key is `36 + (15 - period)` in long mode and 24 keys higher in short
  (metallic) mode: long C2 (period 15, lowest) .. D#3 (period 0), short C4 .. D#5.
- A pitched note with its own duty (`ChipNote.timbre`) has that duty as its program number
  (0..7) instead of the voice's General MIDI program.
- Not stored: the loop start (`from_song` gives 0) and the instruments (`from_song` takes the
  chip's preset).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chipline.arrange.arranger import NTSC_FRAME_HZ, TempoMap
from chipline.arrange.preset import load_preset
from chipline.chip import CHIP_VOICES, VOICES, ChipName, ChipNote, ChipScore, Instrument
from chipline.errors import EncodingError
from chipline.score import Note, Song, write_midi

CHANNELS = {
    "Pulse 1": 0,
    "Pulse 2": 1,
    "Triangle": 2,
    "VRC6 Pulse 1": 3,
    "VRC6 Pulse 2": 4,
    "VRC6 Saw": 5,
    "Noise": 9,
}
PROGRAMS = {  # General MIDI, counted from 0
    "Pulse 1": 80,  # Lead 1 (square)
    "Pulse 2": 80,
    "Triangle": 38,  # Synth Bass 1
    "VRC6 Pulse 1": 80,
    "VRC6 Pulse 2": 80,
    "VRC6 Saw": 81,  # Lead 2 (sawtooth)
    "Noise": 0,  # channel 10 plays drums whatever the program
}
NOISE_LONG_KEY = 36  # key of period 15 (the lowest noise) in long mode
NOISE_SHORT_OFFSET = 24


def velocity_of(volume: int) -> int:
    """MIDI velocity (2..127) of a 4-bit volume; `volume_of` inverts it, also for velocity - 1."""
    return max(2, round(volume * 127 / 15))


def volume_of(velocity: int) -> int:
    return round(velocity * 15 / 127)


def noise_key(period: int, mode: int) -> int:
    return NOISE_LONG_KEY + (15 - period) + NOISE_SHORT_OFFSET * mode


def noise_period_mode(key: int) -> tuple[int, int] | None:
    """(period, mode) of a noise key, or None when the key is outside both ranges."""
    for mode in (0, 1):
        step = key - NOISE_LONG_KEY - NOISE_SHORT_OFFSET * mode
        if 0 <= step <= 15:
            return 15 - step, mode
    return None


def to_song(score: ChipScore, frame_hz: float = NTSC_FRAME_HZ) -> Song:
    """The arranged multi-track MIDI of `score` (see the module docstring for the conventions).

    Raises:
        EncodingError: a note names a voice the chip lacks, or a noise period outside 0..15.
    """
    voices = score.voices
    tempo_map = TempoMap.of(score.tempos, score.ticks_per_beat)
    notes: list[Note] = []
    for chip_note in score.notes:
        if chip_note.voice not in voices:
            raise EncodingError(
                f"a note at tick {chip_note.start_tick} is on {chip_note.voice!r}, "
                f"which chip {score.chip!r} lacks (voices: {', '.join(voices)})"
            )
        track = voices.index(chip_note.voice)
        instrument = score.instruments.get(chip_note.voice, Instrument())
        notes.extend(_midi_notes(tempo_map, chip_note, track, instrument, frame_hz))
    notes.sort()
    return Song(
        ticks_per_beat=score.ticks_per_beat,
        notes=tuple(notes),
        tempos=score.tempos,
        time_signatures=score.time_signatures,
        track_names=voices,
        end_tick=max([score.end_tick] + [n.end_tick for n in notes]),
        midi_format=1,
    )


def _midi_notes(
    tempo_map: TempoMap, cn: ChipNote, track: int, instrument: Instrument, frame_hz: float
) -> list[Note]:
    voice = VOICES[cn.voice]
    channel = CHANNELS[cn.voice]
    if voice.kind == "noise":
        mode = cn.timbre if cn.timbre is not None else instrument.duty
        for p in cn.pitches:
            if not 0 <= p <= 15 or mode not in (0, 1):
                raise EncodingError(
                    f"noise note at tick {cn.start_tick}: period {p} / mode {mode} is outside "
                    "0..15 / 0..1"
                )
        keys = [noise_key(p, mode) for p in cn.pitches]
        program = PROGRAMS[cn.voice]
    else:
        keys = list(cn.pitches)
        program = PROGRAMS[cn.voice] if cn.timbre is None else cn.timbre
    head = velocity_of(cn.volume)
    if len(keys) == 1:
        bounds = [cn.start_tick, cn.end_tick]
    else:
        bounds = _frame_bounds(tempo_map, cn, frame_hz)
    return [
        Note(start, end, keys[k % len(keys)], head if k == 0 else head - 1, channel, program, track)
        for k, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


def _frame_bounds(tempo_map: TempoMap, cn: ChipNote, frame_hz: float) -> list[int]:
    """Tick boundaries of the frames of an arpeggio: strictly increasing, one piece per tone at
    least (shorter notes are split evenly in ticks)."""
    start_sec, end_sec = tempo_map.to_sec([cn.start_tick, cn.end_tick])
    num_frames = int(np.ceil((end_sec - start_sec) * frame_hz - 1e-9))
    ticks = tempo_map.to_tick(start_sec + np.arange(num_frames) / frame_hz)
    inside = ticks[(ticks > cn.start_tick) & (ticks < cn.end_tick)]
    bounds = [cn.start_tick, *np.unique(inside).tolist()]
    if len(bounds) < len(cn.pitches):
        length, k = cn.end_tick - cn.start_tick, len(cn.pitches)
        if length < k:
            raise EncodingError(
                f"{cn.voice} arpeggio at tick {cn.start_tick}: {k} tones in {length} ticks; "
                "each tone needs a tick of its own"
            )
        bounds = [cn.start_tick + i * length // k for i in range(k)]
    return bounds + [cn.end_tick]


def from_song(song: Song, chip: ChipName | None = None, preset: Path | None = None) -> ChipScore:
    """Read an arranged MIDI (tracks found by voice name) back into a `ChipScore`.

    `chip` defaults to `vrc6` when a VRC6 track is present, else `nes`; instruments come from the
    chip's preset (or `preset`). Tracks with other names are ignored.

    Raises:
        EncodingError: no track has a voice name, a voice's notes overlap, or a noise key is
            outside the noise key map.
    """
    names = song.track_names
    if chip is None:
        chip = "vrc6" if any(n in names for n in CHIP_VOICES["vrc6"][4:]) else "nes"
    voices = CHIP_VOICES[chip]
    if not any(name in voices for name in names):
        raise EncodingError(
            f"no track is named after a {chip} voice ({', '.join(voices)}); "
            "an arranged MIDI has one track per voice with exactly these names"
        )
    chip_notes: list[ChipNote] = []
    for track, name in enumerate(names):
        if name in voices:
            chip_notes.extend(_read_voice(name, [n for n in song.notes if n.track == track]))
    chip_notes.sort(key=lambda n: (n.start_tick, voices.index(n.voice)))
    return ChipScore(
        chip=chip,
        ticks_per_beat=song.ticks_per_beat,
        notes=tuple(chip_notes),
        tempos=song.tempos,
        time_signatures=song.time_signatures,
        end_tick=song.end_tick,
        instruments=load_preset(chip, preset).instruments(chip),
    )


def _read_voice(voice: str, notes: list[Note]) -> list[ChipNote]:
    runs: list[list[Note]] = []
    for n in sorted(notes):
        if runs and n.start_tick < runs[-1][-1].end_tick:
            raise EncodingError(
                f"track {voice!r}: notes overlap at tick {n.start_tick}; "
                "a chip voice plays one note at a time"
            )
        volume = volume_of(n.velocity)
        continues = (
            runs
            and n.velocity == velocity_of(volume) - 1
            and runs[-1][-1].end_tick == n.start_tick
            and volume_of(runs[-1][0].velocity) == volume
        )
        if continues:
            runs[-1].append(n)
        else:
            runs.append([n])
    return [_chip_note(voice, run) for run in runs]


def _chip_note(voice: str, run: list[Note]) -> ChipNote:
    first = run[0]
    timbre: int | None = None
    if VOICES[voice].kind == "noise":
        pitches = []
        for n in run:
            decoded = noise_period_mode(n.pitch)
            if decoded is None:
                short = NOISE_LONG_KEY + NOISE_SHORT_OFFSET
                raise EncodingError(
                    f"track 'Noise': key {n.pitch} at tick {n.start_tick} is outside the noise "
                    f"key map ({NOISE_LONG_KEY}..{NOISE_LONG_KEY + 15} long mode, "
                    f"{short}..{short + 15} short mode)"
                )
            pitches.append(decoded[0])
            timbre = decoded[1]
    else:
        pitches = [n.pitch for n in run]
        timbre = None if first.program == PROGRAMS[voice] else first.program
    return ChipNote(
        voice,
        first.start_tick,
        run[-1].end_tick,
        _cycle(pitches),
        volume_of(first.velocity),
        timbre,
    )


def _cycle(pitches: list[int]) -> tuple[int, ...]:
    """The shortest sequence whose repetition gives `pitches` (an arpeggio's tones in order)."""
    for k in range(1, len(pitches) + 1):
        if all(pitches[i] == pitches[i % k] for i in range(len(pitches))):
            return tuple(pitches[:k])
    return tuple(pitches)


def write_arranged_midi(score: ChipScore, path: Path, frame_hz: float = NTSC_FRAME_HZ) -> Path:
    """Write the arranged MIDI of `score` to `path` atomically; returns `path`."""
    return write_midi(to_song(score, frame_hz), Path(path))
