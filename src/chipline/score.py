"""Notes and songs: frozen dataclasses, MIDI file <-> Song, and quantisation.

Reading (through `chipline.smf`) is tolerant of what real files contain (unknown chunks, stray
system bytes, running status, note-on velocity 0, overlapping or never-closed notes, malformed
key signatures) and strict about garbage: anything that is not a readable MIDI file raises
`MidiFileError` naming the file and the problem. Every repair is counted and logged once per
file. Writing produces plain type 1 files.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline import atomic
from chipline.errors import MidiFileError
from chipline.smf import (
    NOTE_OFF,
    NOTE_ON,
    PROGRAM,
    RawFile,
    SmfError,
    meta_event,
    parse_smf,
    smf_bytes,
    track_chunk,
)

logger = logging.getLogger(__name__)

DRUM_CHANNEL = 9  # GM channel 10, counted from 0
DEFAULT_US_PER_BEAT = 500_000  # 120 qpm, the MIDI default


@dataclass(frozen=True, order=True)
class Note:
    """One sounding note. Ticks are absolute; `end_tick > start_tick` always."""

    start_tick: int
    end_tick: int
    pitch: int
    velocity: int = 100
    channel: int = 0
    program: int = 0
    track: int = 0

    @property
    def is_drum(self) -> bool:
        return self.channel == DRUM_CHANNEL


@dataclass(frozen=True)
class Tempo:
    tick: int
    us_per_beat: int

    @property
    def qpm(self) -> float:
        return 60_000_000 / self.us_per_beat


@dataclass(frozen=True)
class TimeSignature:
    tick: int
    numerator: int = 4
    denominator: int = 4

    @property
    def meter(self) -> tuple[int, int]:
        return self.numerator, self.denominator


@dataclass(frozen=True)
class Song:
    """A piece of music in ticks, with its tempo map and time signatures.

    `tempos` and `time_signatures` are sorted, non-empty and start at tick 0. `notes` are sorted.
    `end_tick` is where the piece ends (the last end-of-track), at least the last note's end.
    """

    ticks_per_beat: int
    notes: tuple[Note, ...] = ()
    tempos: tuple[Tempo, ...] = (Tempo(0, DEFAULT_US_PER_BEAT),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0),)
    track_names: tuple[str, ...] = ("",)
    end_tick: int = 0
    midi_format: int = 1

    @property
    def qpm(self) -> float:
        """The tempo at the start, in quarter notes per minute."""
        return self.tempos[0].qpm

    @property
    def duration_sec(self) -> float:
        return float(self.tick_to_sec(self.end_tick))

    def tick_to_sec(self, ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Seconds at `ticks` (scalar or array), following the tempo map."""
        return ticks_to_sec(ticks, self.tempos, self.ticks_per_beat)

    def bar_ticks(self) -> list[int]:
        """Start tick of every bar that begins before `end_tick`, following time signatures."""
        bars: list[int] = []
        sigs = self.time_signatures
        for k, sig in enumerate(sigs):
            stop = sigs[k + 1].tick if k + 1 < len(sigs) else max(self.end_tick, 1)
            length = bar_length_ticks(sig, self.ticks_per_beat)
            bars.extend(range(sig.tick, stop, length))
        return bars


def ticks_to_sec(
    ticks: npt.ArrayLike, tempos: Sequence[Tempo], ticks_per_beat: int
) -> npt.NDArray[np.float64]:
    """Seconds at `ticks` (scalar or array) under the sorted tempo map `tempos` (first at 0)."""
    ticks = np.asarray(ticks, dtype=np.float64)
    starts = np.array([t.tick for t in tempos], dtype=np.float64)
    sec_per_tick = np.array([t.us_per_beat for t in tempos]) / (1e6 * ticks_per_beat)
    offsets = np.concatenate([[0.0], np.cumsum(np.diff(starts) * sec_per_tick[:-1])])
    i = np.searchsorted(starts, ticks, side="right") - 1
    return offsets[i] + (ticks - starts[i]) * sec_per_tick[i]


def bar_length_ticks(sig: TimeSignature, ticks_per_beat: int) -> int:
    return max(1, ticks_per_beat * 4 * sig.numerator // sig.denominator)


def meter_changes(signatures: Sequence[TimeSignature]) -> list[TimeSignature]:
    """The first time signature and each one that changes the meter: one that repeats the
    meter in force (as at a repeat sign) is no change."""
    return [
        sig for k, sig in enumerate(signatures) if k == 0 or sig.meter != signatures[k - 1].meter
    ]


@dataclass(frozen=True)
class ReadLimits:
    """Caps that turn absurd files into a clear error instead of a hang or an out-of-memory."""

    max_file_bytes: int = 32 * 1024 * 1024
    max_events: int = 2_000_000
    max_duration_sec: float = 3 * 3600.0


@dataclass
class _Repairs:
    """What reading had to fix in one file; logged once per file."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def log(self, path: Path) -> None:
        if self.counts:
            fixed = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
            logger.warning("%s: repaired while reading: %s", path, fixed)


def read_midi(path: str | os.PathLike[str], limits: ReadLimits = ReadLimits()) -> Song:
    """Read a standard MIDI file (type 0, 1 or 2) into a `Song`.

    Raises:
        MidiFileError: the file is missing, empty, not MIDI, truncated or over a limit.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise MidiFileError(f"{path}: cannot read file ({e.strerror or e})") from e
    repairs = _Repairs()
    song = parse_midi(data, str(path), limits, repairs)
    repairs.log(path)
    return song


def parse_midi(
    data: bytes,
    name: str = "<bytes>",
    limits: ReadLimits = ReadLimits(),
    repairs: _Repairs | None = None,
) -> Song:
    """Parse the bytes of a MIDI file; `name` is used in error messages."""
    repairs = repairs if repairs is not None else _Repairs()
    if not data:
        raise MidiFileError(f"{name}: empty file (0 bytes)")
    if len(data) > limits.max_file_bytes:
        raise MidiFileError(
            f"{name}: {len(data)} bytes is over the limit of {limits.max_file_bytes} bytes"
        )
    try:
        raw = parse_smf(data, limits.max_events)
    except SmfError as e:
        raise MidiFileError(f"{name}: {e}") from e
    for what, n in raw.repairs.items():
        repairs.add(what, n)
    if raw.ticks_per_beat <= 0:
        raise MidiFileError(f"{name}: SMPTE time division is not supported (only ticks per beat)")
    song = _to_song(raw, repairs)
    if song.duration_sec > limits.max_duration_sec:
        raise MidiFileError(
            f"{name}: lasts {song.duration_sec:.0f} s, "
            f"over the limit of {limits.max_duration_sec:.0f} s"
        )
    return song


def _to_song(raw: RawFile, repairs: _Repairs) -> Song:
    notes: list[Note] = []
    tempos: dict[int, int] = {}
    sigs: dict[int, TimeSignature] = {}
    names: list[str] = []
    end_tick = 0
    offset = 0  # type 2 files hold independent sequences played one after another
    for index, track in enumerate(raw.tracks):
        name = _read_meta(track.meta, offset, tempos, sigs, repairs)
        _read_notes(track.channel, offset, index, track.end_tick + offset, notes, repairs)
        names.append(name)
        end_tick = max(end_tick, offset + track.end_tick)
        if raw.format == 2:
            offset += track.end_tick
    tempos.setdefault(0, tempos[min(tempos)] if tempos else DEFAULT_US_PER_BEAT)
    sigs.setdefault(0, TimeSignature(0))
    notes.sort()
    end_tick = max([end_tick] + [n.end_tick for n in notes])
    return Song(
        ticks_per_beat=raw.ticks_per_beat,
        notes=tuple(notes),
        tempos=tuple(Tempo(t, us) for t, us in sorted(tempos.items())),
        time_signatures=tuple(sigs[t] for t in sorted(sigs)),
        track_names=tuple(names),
        end_tick=end_tick,
        midi_format=raw.format,
    )


def _read_meta(
    meta: list[tuple[int, int, bytes]],
    offset: int,
    tempos: dict[int, int],
    sigs: dict[int, TimeSignature],
    repairs: _Repairs,
) -> str:
    name = ""
    for tick, kind, payload in meta:
        tick += offset
        if kind == 0x51 and len(payload) == 3 and int.from_bytes(payload, "big") > 0:
            tempos[tick] = int.from_bytes(payload, "big")
        elif kind == 0x58 and len(payload) >= 2 and payload[0] > 0 and payload[1] < 8:
            sigs[tick] = TimeSignature(tick, payload[0], 2 ** payload[1])
        elif kind == 0x03 and not name:
            name = payload.decode("latin-1")
        elif kind in (0x51, 0x58):
            repairs.add("malformed tempo or time-signature meta events skipped")
        elif kind == 0x59 and not _valid_key_signature(payload):
            repairs.add("malformed key-signature meta events skipped")
    return name


def _valid_key_signature(payload: bytes) -> bool:
    if len(payload) != 2:
        return False
    sharps = payload[0] - 256 if payload[0] > 127 else payload[0]
    return -7 <= sharps <= 7 and payload[1] in (0, 1)


def _read_notes(
    events: list[tuple[int, int, int, int]],
    offset: int,
    track: int,
    end_tick: int,
    notes: list[Note],
    repairs: _Repairs,
) -> None:
    # A note-off ends the oldest sounding note of its pitch (first in, first out), as DAWs do:
    # files that write the next attack before the previous release (common in exports of
    # repeated notes) keep both notes whole.
    sounding: dict[tuple[int, int], list[tuple[int, int, int]]] = {}  # key: (start, vel, prog)
    closed: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    orphan_off: dict[tuple[int, int], int] = {}  # note-offs that found nothing sounding
    programs = [0] * 16
    for tick, status, data1, data2 in events:
        tick += offset
        kind, key = status & 0xF0, (status & 0x0F, data1)
        if kind == PROGRAM:
            programs[key[0]] = data1
        elif kind == NOTE_ON and data2 > 0:
            if orphan_off.pop(key, None) == tick:
                # A zero-length note written off-before-on (exports of grace notes do this):
                # pairing them keeps the attack from sounding until the pitch's next release.
                repairs.add("zero-length notes dropped")
                continue
            sounding.setdefault(key, []).append((tick, data2, programs[key[0]]))
        elif sounding.get(key):
            start, velocity, program = sounding[key].pop(0)
            closed.setdefault(key, []).append((start, tick, velocity, program))
        else:
            orphan_off[key] = tick
    for key, opened in sounding.items():
        if opened:
            repairs.add("notes never closed (closed at end of track)", len(opened))
        for start, velocity, program in opened:
            closed.setdefault(key, []).append((start, end_tick, velocity, program))
    for (channel, pitch), spans in closed.items():
        spans.sort()
        for i, (start, end, velocity, program) in enumerate(spans):
            if i + 1 < len(spans) and spans[i + 1][0] < end:
                repairs.add("overlapping notes of the same pitch shortened")
                end = spans[i + 1][0]  # a new attack ends the sounding note
            if end <= start:
                repairs.add("zero-length notes dropped")
                continue
            notes.append(Note(start, end, pitch, velocity, channel, program, track))


def write_midi(song: Song, path: str | os.PathLike[str]) -> Path:
    """Write `song` as a type 1 MIDI file, atomically (a reader never sees a partial file).

    One MIDI track per entry of `song.track_names`; tempo and time signatures go in the first.

    Raises:
        ValueError: a note's pitch, velocity, channel or program is outside MIDI's range.
    """
    path = Path(path)
    num_tracks = max([len(song.track_names)] + [n.track + 1 for n in song.notes])
    by_track: list[list[Note]] = [[] for _ in range(num_tracks)]
    for n in song.notes:
        by_track[n.track].append(n)
    chunks = []
    for index in range(num_tracks):
        events: list[tuple[int, int, bytes]] = []
        name = song.track_names[index] if index < len(song.track_names) else ""
        if name:
            events.append((0, 0, meta_event(0x03, name.encode("latin-1", errors="replace"))))
        if index == 0:
            events.extend(_conductor_events(song))
        events.extend(_note_events(by_track[index]))
        events.sort(key=lambda e: (e[0], e[1]))
        chunks.append(track_chunk([(tick, data) for tick, _, data in events], song.end_tick))
    data = smf_bytes(1, song.ticks_per_beat, chunks)
    return atomic.write_bytes(path, data, make_parents=True)


def _conductor_events(song: Song) -> list[tuple[int, int, bytes]]:
    events = [(t.tick, 1, meta_event(0x51, t.us_per_beat.to_bytes(3, "big"))) for t in song.tempos]
    for s in song.time_signatures:
        power = s.denominator.bit_length() - 1  # the denominator is stored as a power of two
        payload = bytes((s.numerator, power, 24, 8))  # 24 clocks a click, 8 32nds a quarter
        events.append((s.tick, 1, meta_event(0x58, payload)))
    return events


def _note_events(notes: Iterable[Note]) -> list[tuple[int, int, bytes]]:
    # Sort keys at one tick: meta (1) < note off (2) < program (3) < note on (4), so a note that
    # ends where the next one starts at the same pitch stays two notes.
    events: list[tuple[int, int, bytes]] = []
    programs: dict[int, int] = {}
    for n in sorted(notes):
        if not (0 <= n.pitch < 128 and 0 < n.velocity < 128 and 0 <= n.channel < 16):
            raise ValueError(f"{n}: pitch, velocity or channel outside MIDI's range")
        if programs.get(n.channel) != n.program:
            if not 0 <= n.program < 128:
                raise ValueError(f"{n}: program outside MIDI's range")
            programs[n.channel] = n.program
            if n.program or n.start_tick:
                events.append((n.start_tick, 3, bytes((PROGRAM | n.channel, n.program))))
        events.append((n.start_tick, 4, bytes((NOTE_ON | n.channel, n.pitch, n.velocity))))
        events.append((n.end_tick, 2, bytes((NOTE_OFF | n.channel, n.pitch, 0))))
    return events


def quantize(song: Song, steps_per_quarter: int = 4) -> Song:
    """Snap `song` to a grid of `steps_per_quarter` steps per beat; its ticks become steps.

    Rounding follows Magenta's quantiser (cutoff 0.5): a time snaps to the nearest step, halves
    round up, and a note whose start and end snap to the same step is lengthened to one step.
    Working in ticks (beats) rather than seconds, it also handles tempo changes. Quantising a
    quantised song again changes nothing.
    """
    tpb = song.ticks_per_beat

    def snap(tick: int) -> int:
        return (2 * tick * steps_per_quarter + tpb) // (2 * tpb)

    notes = []
    for n in song.notes:
        start, end = snap(n.start_tick), snap(n.end_tick)
        notes.append(replace(n, start_tick=start, end_tick=max(end, start + 1)))
    notes.sort()
    tempos = {snap(t.tick): t.us_per_beat for t in song.tempos}
    sigs = {snap(s.tick): s for s in song.time_signatures}
    end_tick = max([snap(song.end_tick)] + [n.end_tick for n in notes])
    return replace(
        song,
        ticks_per_beat=steps_per_quarter,
        notes=tuple(notes),
        tempos=tuple(Tempo(t, us) for t, us in sorted(tempos.items())),
        time_signatures=tuple(replace(sigs[t], tick=t) for t in sorted(sigs)),
        end_tick=end_tick,
    )


def max_polyphony(notes: Sequence[Note]) -> int:
    """The largest number of notes sounding at once."""
    events = sorted([(n.start_tick, 1) for n in notes] + [(n.end_tick, -1) for n in notes])
    level = peak = 0
    for _, delta in events:  # ends (-1) sort before starts (+1) at the same tick
        level += delta
        peak = max(peak, level)
    return peak


def tempo_at(song: Song, tick: int) -> Tempo:
    """The tempo in force at `tick`."""
    i = bisect.bisect_right([t.tick for t in song.tempos], tick) - 1
    return song.tempos[max(i, 0)]


def describe(song: Song) -> dict[str, object]:
    """A summary of `song` for people and machines (what `chipline info` prints)."""
    pitched = [n for n in song.notes if not n.is_drum]
    sig = song.time_signatures[0]
    bar = bar_length_ticks(sig, song.ticks_per_beat)
    return {
        "format": song.midi_format,
        "tracks": len(song.track_names),
        "notes": len(song.notes),
        "drum_notes": len(song.notes) - len(pitched),
        "duration_sec": round(song.duration_sec, 3),
        "bars": round(song.end_tick / bar, 3),
        "qpm": round(song.qpm, 3),
        "tempo_changes": len(song.tempos) - 1,
        "time_signature": f"{sig.numerator}/{sig.denominator}",
        "pitch_range": [min(n.pitch for n in pitched), max(n.pitch for n in pitched)]
        if pitched
        else None,
        "max_polyphony": max_polyphony(song.notes),
    }
