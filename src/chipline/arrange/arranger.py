"""`arrange`: a polyphonic `Song` → a `ChipScore` with monophonic voices, following a preset."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline.arrange.allocate import Roles, Segment, allocate
from chipline.arrange.drums import drum_notes, velocity_volume
from chipline.arrange.fold import fold, phrase_shifts
from chipline.arrange.preset import Preset, load_preset
from chipline.chip import CHIP_VOICES, VOICES, ChipName, ChipNote, ChipScore
from chipline.errors import ConfigError, EncodingError
from chipline.score import Note, Song, Tempo, bar_length_ticks

NTSC_FRAME_HZ = 1_789_773 / 29_780.5  # 60.0988 Hz: the 2A03's NMI rate
PAL_FRAME_HZ = 1_662_607 / 33_247.5  # 50.007 Hz

# Inner voices in the order they are used; the last one plays the arpeggio of any extra tones.
HARMONY_VOICES: dict[str, tuple[str, ...]] = {
    "nes": ("Pulse 2",),
    "vrc6": ("Pulse 2", "VRC6 Pulse 1", "VRC6 Pulse 2", "VRC6 Saw"),
}


@dataclass(frozen=True)
class ArrangeConfig:
    """How a song is arranged for a chip.

    `steal_beats`: a new note above the sounding melody (below the sounding bass) takes over only
    if it lasts at least this many beats (the hysteresis of the skyline). `*_range`: inclusive
    MIDI pitches each role is folded into by octaves (clipped to the voice's own range).
    `arpeggio_frames_per_tone`: frames each chord tone of an arpeggio lasts. `frame_hz`: the
    chip's frame rate, which times drum lengths (NTSC by default). `triangle_gap_frames`: a
    triangle note followed at once by the same pitch ends this many frames early (at most half
    its length), because the triangle has no envelope and would not sound the repeat.
    `phrase_beats`: notes out of range move a whole phrase (up to this long, ended by a rest of
    a beat) by octaves where the phrase fits, keeping its contour; 0 folds each note alone.
    `melody_track`: the MIDI track (counted from 0) whose top line is the melody, for songs
    where another part lies above the tune; None takes the top line of the whole song.
    """

    chip: ChipName = "nes"
    arpeggio: bool = True
    preset: Path | None = None
    steal_beats: float = 0.25
    merge_beats: float = 1 / 16
    arpeggio_frames_per_tone: int = 1
    max_arpeggio_tones: int = 4
    melody_range: tuple[int, int] = (45, 96)
    bass_range: tuple[int, int] = (28, 72)
    harmony_range: tuple[int, int] = (45, 96)
    frame_hz: float = NTSC_FRAME_HZ
    triangle_gap_frames: int = 1
    phrase_beats: float = 8.0
    melody_track: int | None = None

    def __post_init__(self) -> None:
        if self.chip not in CHIP_VOICES:
            raise ConfigError(f"unknown chip {self.chip!r}; choose one of {', '.join(CHIP_VOICES)}")
        for name in ("melody_range", "bass_range", "harmony_range"):
            low, high = getattr(self, name)
            if high - low < 11:
                raise ConfigError(f"{name} {low}..{high} must span at least an octave (12 keys)")
        if min(self.steal_beats, self.merge_beats, self.phrase_beats) < 0 or self.frame_hz <= 0:
            raise ConfigError("steal_beats, merge_beats, phrase_beats must be >= 0, frame_hz > 0")
        if self.arpeggio_frames_per_tone < 1 or self.max_arpeggio_tones < 2:
            raise ConfigError("arpeggio_frames_per_tone must be >= 1, max_arpeggio_tones >= 2")


def arrange(song: Song, config: ArrangeConfig = ArrangeConfig()) -> ChipScore:
    """Arrange `song` for `config.chip`: melody, bass, inner voices or arpeggio, and drums.

    Raises:
        EncodingError: the song has no notes at all (nothing to play).
        ConfigError: the preset file is invalid, or `melody_track` has no pitched notes.
    """
    if not song.notes:
        raise EncodingError(
            "the song has no notes, so there is nothing to arrange; "
            "check that the MIDI file holds note-on events"
        )
    preset = load_preset(config.chip, config.preset)
    end_tick = loop_end_tick(song)
    tempo_map = TempoMap.of(song.tempos, song.ticks_per_beat)

    def frames_to_tick(tick: int, num_frames: float) -> int:
        return tempo_map.tick_at(tempo_map.sec_at(tick) + num_frames / config.frame_hz)

    notes = _pitched_voices(song, config, preset)
    notes = separate_repeats(notes, "Triangle", config.triangle_gap_frames, frames_to_tick)
    drums = [n for n in song.notes if n.is_drum]
    notes += drum_notes(drums, end_tick, frames_to_tick, volume_scale=preset.noise.volume)
    notes.sort(key=lambda n: (n.start_tick, CHIP_VOICES[config.chip].index(n.voice)))
    return ChipScore(
        chip=config.chip,
        ticks_per_beat=song.ticks_per_beat,
        notes=tuple(notes),
        tempos=song.tempos,
        time_signatures=song.time_signatures,
        end_tick=end_tick,
        instruments=preset.instruments(config.chip),
    )


def _pitched_voices(song: Song, config: ArrangeConfig, preset: Preset) -> list[ChipNote]:
    """Melody, bass and inner voices of the song's pitched (non-drum) notes."""
    tpb = song.ticks_per_beat
    pitched = [n for n in song.notes if not n.is_drum]
    _check_melody_track(pitched, config.melody_track)
    roles = Roles(
        melody="Pulse 1",
        bass="Triangle",
        harmony=HARMONY_VOICES[config.chip],
        steal_ticks=round(config.steal_beats * tpb),
        arpeggio=config.arpeggio,
        max_arpeggio_tones=config.max_arpeggio_tones,
        melody_track=config.melody_track,
    )
    ranges = voice_ranges(config, roles)
    segments = allocate(merge_close_events(pitched, round(config.merge_beats * tpb)), roles)
    shifts = phrase_shifts(segments, ranges, tpb, round(config.phrase_beats * tpb))
    return [
        _chip_note(seg, shift, preset, config, ranges)
        for seg, shift in zip(segments, shifts, strict=True)
    ]


def _check_melody_track(pitched: Sequence[Note], track: int | None) -> None:
    if track is None or any(n.track == track for n in pitched):
        return
    tracks = sorted({n.track for n in pitched})
    raise ConfigError(
        f"melody_track {track}: the song has no pitched notes on track {track}; "
        f"tracks with pitched notes: {', '.join(map(str, tracks)) or 'none'}"
    )


def voice_ranges(config: ArrangeConfig, roles: Roles) -> dict[str, tuple[int, int]]:
    """Inclusive pitch range per pitched voice: its role's range within the voice's own.

    Raises:
        ConfigError: a range and the voice's own overlap by less than an octave.
    """
    ranges = {}
    for name in (roles.melody, roles.bass, *roles.harmony):
        role = (
            config.melody_range
            if name == roles.melody
            else config.bass_range
            if name == roles.bass
            else config.harmony_range
        )
        voice = VOICES[name]
        low, high = max(role[0], voice.low), min(role[1], voice.high)
        if high - low < 11:
            raise ConfigError(
                f"{name} plays MIDI {voice.low}..{voice.high}; the range {role[0]}..{role[1]} "
                "must overlap it by at least an octave"
            )
        ranges[name] = (low, high)
    return ranges


def _chip_note(
    seg: Segment,
    shift: int,
    preset: Preset,
    config: ArrangeConfig,
    ranges: dict[str, tuple[int, int]],
) -> ChipNote:
    low, high = ranges[seg.voice]
    pitches = tuple(dict.fromkeys(fold(p + shift, low, high) for p in seg.pitches))
    if len(pitches) > 1:
        pitches = tuple(sorted(pitches))
        pitches = tuple(p for p in pitches for _ in range(config.arpeggio_frames_per_tone))
        # Every tone of an arpeggio needs a tick of its own in the arranged MIDI.
        pitches = pitches[: seg.end_tick - seg.start_tick]
    if VOICES[seg.voice].kind == "triangle":
        volume = 15  # the triangle has no volume control
    else:
        volume = velocity_volume(preset.voice(seg.voice).volume, seg.velocity)
    return ChipNote(seg.voice, seg.start_tick, seg.end_tick, pitches, volume)


def separate_repeats(
    notes: list[ChipNote], voice: str, num_frames: int, frames_to_tick: Callable[[int, float], int]
) -> list[ChipNote]:
    """`notes` with each note of `voice` that is followed at once by the same pitches cut
    `num_frames` frames short (never by more than half its length)."""
    if num_frames <= 0:
        return notes
    by_start = {n.start_tick: n for n in notes if n.voice == voice}
    out = []
    for n in notes:
        nxt = by_start.get(n.end_tick) if n.voice == voice else None
        if nxt is not None and nxt.pitches == n.pitches:
            early = frames_to_tick(n.end_tick, -num_frames)
            n = replace(n, end_tick=max(early, n.start_tick + (n.end_tick - n.start_tick + 1) // 2))
        out.append(n)
    return out


def merge_close_events(notes: Sequence[Note], within_ticks: int) -> list[Note]:
    """`notes` with every start and end moved to the first of a run of event ticks that lie
    within `within_ticks` of that first one; a note this would empty keeps its length instead."""
    if within_ticks <= 0:
        return list(notes)
    snapped: dict[int, int] = {}
    first = None
    for tick in sorted({n.start_tick for n in notes} | {n.end_tick for n in notes}):
        if first is None or tick - first > within_ticks:
            first = tick
        snapped[tick] = first
    out = []
    for n in notes:
        start, end = snapped[n.start_tick], snapped[n.end_tick]
        if end <= start:
            end = start + (n.end_tick - n.start_tick)
        if (start, end) != (n.start_tick, n.end_tick):
            n = Note(start, end, n.pitch, n.velocity, n.channel, n.program, n.track)
        out.append(n)
    return out


def loop_end_tick(song: Song) -> int:
    """The end of the piece rounded up to the next bar line, following time signatures."""
    end = max([song.end_tick] + [n.end_tick for n in song.notes])
    sigs = song.time_signatures
    k = max(0, bisect.bisect_right([s.tick for s in sigs], end - 1) - 1)
    sig = sigs[k]
    bar = bar_length_ticks(sig, song.ticks_per_beat)
    return sig.tick + -(-(end - sig.tick) // bar) * bar


@dataclass(frozen=True)
class TempoMap:
    """Seconds ⇄ ticks under a sorted tempo map (first tempo at tick 0)."""

    start_ticks: npt.NDArray[np.float64]
    start_secs: npt.NDArray[np.float64]
    sec_per_tick: npt.NDArray[np.float64]
    tick_list: tuple[float, ...]  # start_ticks and start_secs as tuples, for scalar look-ups
    sec_list: tuple[float, ...]

    @classmethod
    def of(cls, tempos: Sequence[Tempo], ticks_per_beat: int) -> TempoMap:
        starts = np.array([t.tick for t in tempos], dtype=np.float64)
        sec_per_tick = np.array([t.us_per_beat for t in tempos]) / (1e6 * ticks_per_beat)
        secs = np.concatenate([[0.0], np.cumsum(np.diff(starts) * sec_per_tick[:-1])])
        return cls(starts, secs, sec_per_tick, tuple(starts.tolist()), tuple(secs.tolist()))

    def to_sec(self, ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Seconds (float64, the shape of `ticks`) at `ticks`."""
        ticks = np.asarray(ticks, dtype=np.float64)
        i = np.clip(np.searchsorted(self.start_ticks, ticks, side="right") - 1, 0, None)
        return self.start_secs[i] + (ticks - self.start_ticks[i]) * self.sec_per_tick[i]

    def sec_at(self, tick: int) -> float:
        """Seconds at one tick (a scalar `to_sec`)."""
        i = max(bisect.bisect_right(self.tick_list, tick) - 1, 0)
        return float(self.start_secs[i] + (tick - self.start_ticks[i]) * self.sec_per_tick[i])

    def tick_at(self, sec: float) -> int:
        """The nearest tick at `sec` seconds (a scalar `to_tick`)."""
        i = max(bisect.bisect_right(self.sec_list, sec) - 1, 0)
        return round(float(self.start_ticks[i] + (sec - self.start_secs[i]) / self.sec_per_tick[i]))

    def to_tick(self, secs: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Nearest ticks (int64, the shape of `secs`) at `secs` seconds."""
        secs = np.asarray(secs, dtype=np.float64)
        i = np.clip(np.searchsorted(self.start_secs, secs, side="right") - 1, 0, None)
        ticks = self.start_ticks[i] + (secs - self.start_secs[i]) / self.sec_per_tick[i]
        return np.round(ticks).astype(np.int64)
