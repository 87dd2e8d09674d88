"""The chip-voice codec: bars, positions and the chip's own voices, with note durations.

A piece is a header, then exactly as many bars as the header says:

    START CHIP_c KEY_k METER_m TEMPO_t BARS_n (LOOP | ONESHOT) DENSITY_d VOICES_v
    ( BAR [LOOP_START] ( POS_p ( VOICE_v NOTE [VOL_x] [TIMBRE_y] DUR_z )+ )* ){n}  END

POS_p is the 16th-note step in the bar (increasing within a bar); voices at one position come in
the order of `VOICE_ORDER`; NOTE is PITCH_p or, on the noise, NOISE_p (period index 0..15).
PITCH_p is the MIDI pitch written in C: the pitch played (in the voice's range) is p plus the
header key's `tonic_shift` (-5..6 semitones from C), so a tune and its transpositions read the
same (up to an octave where the shift wraps, between F# and G). VOL (0..14, absent = 15; never
on the triangle) and TIMBRE (pulse duty 0..3, VRC6 duty 0..7, noise mode 0..1; absent = the
instrument's) are optional. DUR_z is the length in steps, from `DURATIONS`; a note may cross bar
lines but never the end of the piece, and a voice plays one note at a time. VOICES_v is how
many of the chip's voices play (the noise counts): at most v different voices have notes.
`chipvoice_grammar` enforces all of this while sampling.

Encoding works from `normalize(score)`: the score snapped to the step grid and to the codec's
bins (tempo, durations), with arpeggios reduced to their first pitch, out-of-range pitches folded
by octaves, and overlaps on a voice cut. `decode(encode(s)) == normalize(s)`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from chipline.chip import CHIP_VOICES, VOICES, ChipName, ChipNote, ChipScore
from chipline.errors import EncodingError
from chipline.keys import Key, estimate_key
from chipline.score import Tempo, TimeSignature

CODEC_NAME = "chipvoice"
CODEC_VERSION = 3  # bump on any change to the tokens: checkpoints and datasets depend on it
STEPS_PER_QUARTER = 4
CHIPS: tuple[ChipName, ...] = ("nes", "vrc6")
VOICE_ORDER = CHIP_VOICES["vrc6"]
METERS = ((2, 4), (3, 4), (4, 4), (6, 8))
# Meters written as a codec meter whose bar is the same on the 16th grid (a cut-time reel is
# the same tokens as 4/4); the decoded score says the codec meter.
METER_ALIASES = {(2, 2): (4, 4), (4, 8): (2, 4)}
TEMPO_BINS = tuple(range(40, 241, 4))  # qpm
MAX_BARS = 64
DENSITY_LIMITS = (4, 8, 16)  # pitched notes per bar below each limit: density 0, 1, 2; else 3
MAX_STEPS_PER_BAR = 16
MAX_VOICES = len(VOICE_ORDER)
DURATIONS = (*range(1, 17), 20, 24, 28, 32, 40, 48, 56, 64)
NUM_VOLUMES, NUM_TIMBRES, NUM_NOISE = 15, 8, 16  # VOL_0..14: full volume is no token
TIMBRE_LIMIT = {"pulse": 4, "vrc6_pulse": 8, "noise": 2, "triangle": 0, "saw": 0}


def _table() -> tuple[str, ...]:
    names = ["START", "END", "BAR", "LOOP", "ONESHOT", "LOOP_START"]
    names += [f"CHIP_{c}" for c in CHIPS]
    names += [f"KEY_{k}" for k in range(24)]
    names += [f"METER_{n}/{d}" for n, d in METERS]
    names += [f"TEMPO_{q}" for q in TEMPO_BINS]
    names += [f"BARS_{n}" for n in range(1, MAX_BARS + 1)]
    names += [f"DENSITY_{d}" for d in range(len(DENSITY_LIMITS) + 1)]
    names += [f"VOICES_{v}" for v in range(1, MAX_VOICES + 1)]
    names += [f"POS_{p}" for p in range(MAX_STEPS_PER_BAR)]
    names += [f"VOICE_{v}" for v in VOICE_ORDER]
    names += [f"PITCH_{p}" for p in range(128)]
    names += [f"NOISE_{p}" for p in range(NUM_NOISE)]
    names += [f"VOL_{v}" for v in range(NUM_VOLUMES)]
    names += [f"TIMBRE_{t}" for t in range(NUM_TIMBRES)]
    names += [f"DUR_{d}" for d in DURATIONS]
    return tuple(names)


TOKENS = _table()
TOKEN_ID = {name: i for i, name in enumerate(TOKENS)}
VOCAB_SIZE = len(TOKENS)
START, END, BAR, LOOP, ONESHOT, LOOP_START = range(6)
CHIP_BASE = TOKEN_ID["CHIP_nes"]
KEY_BASE = TOKEN_ID["KEY_0"]
METER_BASE = TOKEN_ID["METER_2/4"]
TEMPO_BASE = TOKEN_ID[f"TEMPO_{TEMPO_BINS[0]}"]
BARS_BASE = TOKEN_ID["BARS_1"]
DENSITY_BASE = TOKEN_ID["DENSITY_0"]
VOICES_BASE = TOKEN_ID["VOICES_1"]
POS_BASE = TOKEN_ID["POS_0"]
VOICE_BASE = TOKEN_ID[f"VOICE_{VOICE_ORDER[0]}"]
PITCH_BASE = TOKEN_ID["PITCH_0"]
NOISE_BASE = TOKEN_ID["NOISE_0"]
VOL_BASE = TOKEN_ID["VOL_0"]
TIMBRE_BASE = TOKEN_ID["TIMBRE_0"]
DUR_BASE = TOKEN_ID["DUR_1"]
HEADER_LENGTH = 9  # START and the eight header tokens


def steps_per_bar(meter: tuple[int, int]) -> int:
    numerator, denominator = meter
    return numerator * 4 * STEPS_PER_QUARTER // denominator


@dataclass(frozen=True)
class Header:
    chip: ChipName
    key: Key
    meter: tuple[int, int]
    qpm: int
    num_bars: int
    loop: bool
    density: int
    voices: int  # at most this many voices play


def normalize(score: ChipScore, loop: bool = True) -> ChipScore:
    """`score` as the codec sees it: on the 16th grid (ticks = steps), binned and playable.

    Raises:
        EncodingError: an unsupported meter, a meter change, or more than MAX_BARS bars.
    """
    meter = _meter(score)
    spb = steps_per_bar(meter)
    tpb = score.ticks_per_beat

    def snap(tick: int) -> int:  # Magenta's rounding: nearest step, halves up
        return (2 * tick * STEPS_PER_QUARTER + tpb) // (2 * tpb)

    num_bars = max(1, -(-snap(score.end_tick) // spb))
    if num_bars > MAX_BARS:
        raise EncodingError(
            f"{num_bars} bars is more than the chip-voice codec's {MAX_BARS}; cut the piece"
        )
    end = num_bars * spb
    loop_start = min(snap(score.loop_start_tick) // spb * spb, end - spb) if loop else 0
    notes: list[ChipNote] = []
    for voice in CHIP_VOICES[score.chip]:
        own = sorted(
            ((snap(n.start_tick), snap(n.end_tick), n) for n in score.notes if n.voice == voice),
            key=lambda item: item[:2],
        )
        for i, (start, stop, note) in enumerate(own):
            following = own[i + 1][0] if i + 1 < len(own) else end
            if start >= following or start >= end:
                continue  # a later note on this voice starts at the same step, or past the end
            length = _duration_bin(min(max(stop, start + 1), following, end) - start)
            notes.append(_normal_note(note, start, start + length))
    return ChipScore(
        chip=score.chip,
        ticks_per_beat=STEPS_PER_QUARTER,
        notes=tuple(sorted(notes, key=_order)),
        tempos=(Tempo(0, round(60_000_000 / _tempo_bin(score.tempos[0].qpm))),),
        time_signatures=(TimeSignature(0, *meter),),
        end_tick=end,
        loop_start_tick=loop_start,
    )


def encode(
    score: ChipScore, loop: bool = True, key: Key | None = None, density: int | None = None,
    voices: int | None = None,
) -> npt.NDArray[np.uint16]:  # fmt: skip
    """Tokens of `normalize(score, loop)`.

    `key`, `density` and `voices` default to what the notes show (a key estimate, notes per
    bar, the voices that play); give them to label a piece with the controls it was generated
    under (`voices` no fewer than play).
    """
    norm = normalize(score, loop)
    header = header_of(norm, loop, key)
    if density is not None:
        header = replace(header, density=density)
    if voices is not None:
        if not header.voices <= voices <= len(CHIP_VOICES[score.chip]):
            raise EncodingError(f"{header.voices} voices play; cannot label the piece {voices}")
        header = replace(header, voices=voices)
    spb = steps_per_bar(header.meter)
    tokens = header_tokens(header)
    by_bar: dict[int, list[ChipNote]] = {}
    for note in norm.notes:
        by_bar.setdefault(note.start_tick // spb, []).append(note)
    for bar in range(header.num_bars):
        tokens.append(BAR)
        if loop and norm.loop_start_tick and bar * spb == norm.loop_start_tick:
            tokens.append(LOOP_START)
        position = -1
        for note in by_bar.get(bar, []):
            if note.start_tick % spb != position:
                position = note.start_tick % spb
                tokens.append(POS_BASE + position)
            tokens.extend(_note_tokens(note, header.key.tonic))
    tokens.append(END)
    return np.array(tokens, dtype=np.uint16)


def decode(tokens: npt.ArrayLike) -> ChipScore:
    """The ChipScore of a grammatical token sequence (ticks are 16th steps).

    Raises:
        EncodingError: the sequence breaks the grammar (position and reason in the message).
    """
    from chipline.encoding.chipvoice_grammar import check

    tokens = np.asarray(tokens, dtype=np.int64)
    check(tokens)
    header = read_header(tokens)
    spb = steps_per_bar(header.meter)
    notes: list[ChipNote] = []
    bar, position, loop_start = -1, 0, 0
    i = HEADER_LENGTH
    while tokens[i] != END:
        token = int(tokens[i])
        if token == BAR:
            bar, position = bar + 1, 0
        elif token == LOOP_START:
            loop_start = bar * spb
        elif POS_BASE <= token < VOICE_BASE:
            position = token - POS_BASE
        elif VOICE_BASE <= token < PITCH_BASE:
            note, i = _read_note(tokens, i, bar * spb + position, header.key.tonic)
            notes.append(note)
            continue
        i += 1
    return ChipScore(
        chip=header.chip,
        ticks_per_beat=STEPS_PER_QUARTER,
        notes=tuple(sorted(notes, key=_order)),
        tempos=(Tempo(0, round(60_000_000 / header.qpm)),),
        time_signatures=(TimeSignature(0, *header.meter),),
        end_tick=header.num_bars * spb,
        loop_start_tick=loop_start,
    )


def header_of(norm: ChipScore, loop: bool, key: Key | None = None) -> Header:
    """The header of a normalised score."""
    meter = (norm.time_signatures[0].numerator, norm.time_signatures[0].denominator)
    num_bars = norm.end_tick // steps_per_bar(meter)
    pitched = [n for n in norm.notes if VOICES[n.voice].kind != "noise"]
    if key is None:
        key = estimate_key(
            [n.pitches[0] for n in pitched], [n.end_tick - n.start_tick for n in pitched]
        )
    per_bar = len(pitched) / num_bars
    density = sum(per_bar >= limit for limit in DENSITY_LIMITS)
    voices = max(1, len({n.voice for n in norm.notes}))  # a silent piece says one
    return Header(norm.chip, key, meter, round(norm.tempos[0].qpm), num_bars, loop, density,
                  voices)  # fmt: skip


def read_header(tokens: npt.NDArray[np.int64]) -> Header:
    """The header of a grammatical sequence (its first HEADER_LENGTH tokens)."""
    t = [int(x) for x in tokens[1:HEADER_LENGTH]]
    key = t[1] - KEY_BASE
    return Header(
        chip=CHIPS[t[0] - CHIP_BASE],
        key=Key(key % 12, key >= 12),
        meter=METERS[t[2] - METER_BASE],
        qpm=TEMPO_BINS[t[3] - TEMPO_BASE],
        num_bars=t[4] - BARS_BASE + 1,
        loop=t[5] == LOOP,
        density=t[6] - DENSITY_BASE,
        voices=t[7] - VOICES_BASE + 1,
    )


def header_tokens(h: Header) -> list[int]:
    """START and the eight header tokens of `h` (its qpm must be one of TEMPO_BINS)."""
    return [
        START,
        CHIP_BASE + CHIPS.index(h.chip),
        KEY_BASE + h.key.index,
        METER_BASE + METERS.index(h.meter),
        TEMPO_BASE + TEMPO_BINS.index(h.qpm),
        BARS_BASE + h.num_bars - 1,
        LOOP if h.loop else ONESHOT,
        DENSITY_BASE + h.density,
        VOICES_BASE + h.voices - 1,
    ]


def tonic_shift(tonic: int) -> int:
    """Semitones from C up to the tonic pitch class `tonic` (0..11), the nearer way: -5..6."""
    return (tonic + 5) % 12 - 5


def pitch_token(pitch: int, tonic: int) -> int:
    """The PITCH token of MIDI `pitch` in a key with tonic pitch class `tonic`."""
    return PITCH_BASE + pitch - tonic_shift(tonic)


def token_pitch(token: int, tonic: int) -> int:
    """The MIDI pitch a PITCH `token` plays in a key with tonic pitch class `tonic`."""
    return token - PITCH_BASE + tonic_shift(tonic)


def _note_tokens(note: ChipNote, tonic: int) -> list[int]:
    kind = VOICES[note.voice].kind
    pitch = NOISE_BASE + note.pitches[0] if kind == "noise" else pitch_token(note.pitches[0], tonic)
    tokens = [VOICE_BASE + VOICE_ORDER.index(note.voice), pitch]
    if note.volume != 15:
        tokens.append(VOL_BASE + note.volume)
    if note.timbre is not None:
        tokens.append(TIMBRE_BASE + note.timbre)
    tokens.append(DUR_BASE + DURATIONS.index(note.end_tick - note.start_tick))
    return tokens


def _read_note(
    tokens: npt.NDArray[np.int64], i: int, start: int, tonic: int
) -> tuple[ChipNote, int]:
    voice = VOICE_ORDER[int(tokens[i]) - VOICE_BASE]
    token = int(tokens[i + 1])
    pitch = token - NOISE_BASE if token >= NOISE_BASE else token_pitch(token, tonic)
    volume, timbre, i = 15, None, i + 2
    if VOL_BASE <= tokens[i] < TIMBRE_BASE:
        volume, i = int(tokens[i]) - VOL_BASE, i + 1
    if TIMBRE_BASE <= tokens[i] < DUR_BASE:
        timbre, i = int(tokens[i]) - TIMBRE_BASE, i + 1
    length = DURATIONS[int(tokens[i]) - DUR_BASE]
    return ChipNote(voice, start, start + length, (pitch,), volume, timbre), i + 1


def _normal_note(note: ChipNote, start: int, end: int) -> ChipNote:
    voice = VOICES[note.voice]
    pitch = note.pitches[0]
    if voice.kind == "noise":
        pitch = min(max(pitch, 0), NUM_NOISE - 1)
    else:
        while pitch < voice.low:
            pitch += 12
        while pitch > voice.high:
            pitch -= 12
    limit = TIMBRE_LIMIT[voice.kind]
    timbre = note.timbre if note.timbre is not None and note.timbre < limit else None
    volume = 15 if voice.kind == "triangle" else min(max(note.volume, 0), 15)
    return replace(note, start_tick=start, end_tick=end, pitches=(pitch,), volume=volume,
                   timbre=timbre)  # fmt: skip


def _order(note: ChipNote) -> tuple[int, int]:
    return note.start_tick, VOICE_ORDER.index(note.voice)


def _duration_bin(steps: int) -> int:
    """The longest codec duration not longer than `steps` (at least one step)."""
    return max(d for d in DURATIONS if d <= max(steps, 1))


def _tempo_bin(qpm: float) -> int:
    return min(TEMPO_BINS, key=lambda q: (abs(q - qpm), q))


def codec_meter(meter: tuple[int, int]) -> tuple[int, int] | None:
    """The codec meter that `meter` is written as (itself or its alias), None when it has none."""
    meter = METER_ALIASES.get(meter, meter)
    return meter if meter in METERS else None


def _meter(score: ChipScore) -> tuple[int, int]:
    meters = {codec_meter((s.numerator, s.denominator)) for s in score.time_signatures}
    first = score.time_signatures[0]
    if len(meters) > 1:
        raise EncodingError("the chip-voice codec needs one meter; split the piece at changes")
    meter = meters.pop()
    if meter is None:
        supported = ", ".join(f"{n}/{d}" for n, d in (*METERS, *METER_ALIASES))
        raise EncodingError(
            f"meter {first.numerator}/{first.denominator} is not supported (only {supported})"
        )
    return meter
