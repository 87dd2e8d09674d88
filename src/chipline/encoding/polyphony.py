"""Magenta's polyphonic event encoding (polyphony_rnn): tokens, encode, decode and its grammar.

A piece on a grid of 16th steps becomes START, then for every step the notes sounding in it
(NEW_NOTE for an attack, CONTINUED_NOTE for a note held from the step before, sorted by pitch,
highest first, a held note before a new one of the same pitch), then STEP_END; END closes the
piece. Token ids are Magenta's class indices, so models move between the two unchanged:

    START=0, END=1, STEP_END=2, NEW_NOTE(p)=3+p, CONTINUED_NOTE(p)=131+p, p in 0..127.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chipline.errors import EncodingError
from chipline.score import Note, Song, Tempo

CODEC_NAME = "polyphony"
CODEC_VERSION = 1  # bump on any change to the tokens: checkpoints and datasets depend on it
NUM_PITCHES = 128
START, END, STEP_END = 0, 1, 2
NEW_NOTE_BASE = 3
CONTINUED_NOTE_BASE = NEW_NOTE_BASE + NUM_PITCHES
VOCAB_SIZE = CONTINUED_NOTE_BASE + NUM_PITCHES  # 259
STEPS_PER_QUARTER = 4  # 16th notes, Magenta's default for polyphony_rnn
MAGENTA_TICKS_PER_BEAT = 220  # note-seq's STANDARD_PPQ, used for written MIDI
DEFAULT_QPM = 120.0

Tokens = npt.NDArray[np.uint16]
IntArray = npt.NDArray[np.int64]


def new_note(pitch: int) -> int:
    return NEW_NOTE_BASE + pitch


def continued_note(pitch: int) -> int:
    return CONTINUED_NOTE_BASE + pitch


def token_name(token: int) -> str:
    """A readable name, as in Magenta's fixture: "START", "NEW_NOTE(60)", ..."""
    token = int(token)
    if token < NEW_NOTE_BASE:
        return ("START", "END", "STEP_END")[token]
    if token < CONTINUED_NOTE_BASE:
        return f"NEW_NOTE({token - NEW_NOTE_BASE})"
    if token < VOCAB_SIZE:
        return f"CONTINUED_NOTE({token - CONTINUED_NOTE_BASE})"
    return f"<invalid {token}>"


def encode_notes(
    start_steps: npt.ArrayLike, end_steps: npt.ArrayLike, pitches: npt.ArrayLike, num_steps: int
) -> Tokens:
    """Encode notes given on the step grid into one sequence of `num_steps` steps.

    Args:
        start_steps, end_steps, pitches: int arrays of equal length, `end > start`, pitch 0..127.
            Notes are cut at `num_steps`; notes starting at or after it are dropped.
        num_steps: the number of steps (STEP_END tokens) in the result.

    Returns:
        uint16, shape (num_tokens,): START, the steps, END.
    """
    starts = np.asarray(start_steps, dtype=np.int64)
    pitch = np.asarray(pitches, dtype=np.int64)
    ends = np.minimum(np.asarray(end_steps, dtype=np.int64), num_steps)
    if pitch.size and (pitch.min() < 0 or pitch.max() >= NUM_PITCHES):
        raise EncodingError(f"pitch outside 0..127 ({pitch.min()}..{pitch.max()})")
    keep = starts < ends
    starts, ends, pitch = starts[keep], ends[keep], pitch[keep]
    if starts.size and starts.min() < 0:
        raise EncodingError(f"note starts before step 0 (step {starts.min()})")
    durations = ends - starts
    note_index = np.repeat(np.arange(starts.size), durations)
    offset = np.arange(note_index.size) - np.repeat(np.cumsum(durations) - durations, durations)
    step = starts[note_index] + offset
    p = pitch[note_index]
    is_new = offset == 0
    # One sort key orders everything: step, then pitch descending, a held note before a new one
    # of the same pitch (Magenta's stable sort of continued-then-new), STEP_END last in its step.
    keys = np.concatenate([step * 512 + (127 - p) * 2 + is_new, np.arange(num_steps) * 512 + 511])
    tokens = np.concatenate(
        [np.where(is_new, NEW_NOTE_BASE + p, CONTINUED_NOTE_BASE + p), np.full(num_steps, STEP_END)]
    )
    body = tokens[np.argsort(keys, kind="stable")]
    return np.concatenate([[START], body, [END]]).astype(np.uint16)


def encode(song: Song, num_steps: int | None = None) -> Tokens:
    """Encode a quantised `Song` (`score.quantize(song, 4)`: its ticks are 16th steps).

    `num_steps` defaults to the end of the last note, as Magenta's quantiser counts them. Every
    note is encoded, drums included: leave out what should not be there before calling.
    """
    if song.ticks_per_beat != STEPS_PER_QUARTER:
        raise EncodingError(
            f"song has {song.ticks_per_beat} ticks per beat; quantise it first with "
            f"chipline.score.quantize(song, {STEPS_PER_QUARTER})"
        )
    starts = np.array([n.start_tick for n in song.notes], dtype=np.int64)
    ends = np.array([n.end_tick for n in song.notes], dtype=np.int64)
    pitches = np.array([n.pitch for n in song.notes], dtype=np.int64)
    if num_steps is None:
        num_steps = int(ends.max()) if ends.size else 0
    return encode_notes(starts, ends, pitches, num_steps)


def decode_notes(tokens: npt.ArrayLike) -> tuple[list[tuple[int, int, int]], int]:
    """The notes `(start_step, end_step, pitch)` of `tokens` and its number of steps.

    Lenient like Magenta's decoder: a CONTINUED_NOTE with nothing to continue, START or END in
    the middle, and an unfinished last step are ignored. Where several notes of one pitch
    sound together and fewer continue, the oldest end first (as the encoder removes them).
    """
    notes: list[tuple[int, int, int]] = []
    prev: dict[int, list[int]] = {}  # pitch -> start steps of notes sounding in the last step
    cur: dict[int, list[int]] = {}
    step = 0
    for token in np.asarray(tokens, dtype=np.int64).tolist():
        if token == STEP_END:
            notes.extend((s, step, p) for p, starts in prev.items() for s in starts)
            prev, cur = cur, {}
            step += 1
        elif NEW_NOTE_BASE <= token < CONTINUED_NOTE_BASE:
            cur.setdefault(token - NEW_NOTE_BASE, []).append(step)
        elif CONTINUED_NOTE_BASE <= token < VOCAB_SIZE:
            held = prev.get(token - CONTINUED_NOTE_BASE)
            if held:
                cur.setdefault(token - CONTINUED_NOTE_BASE, []).insert(0, held.pop())
        elif token >= VOCAB_SIZE:
            raise EncodingError(f"token {token} is outside the vocabulary (0..{VOCAB_SIZE - 1})")
    notes.extend((s, step, p) for p, starts in prev.items() for s in starts)
    return sorted(notes), step


def decode(
    tokens: npt.ArrayLike,
    qpm: float = DEFAULT_QPM,
    ticks_per_beat: int = MAGENTA_TICKS_PER_BEAT,
) -> Song:
    """Turn tokens back into a `Song`: velocity 100, program 0, one track, tempo `qpm`.

    `ticks_per_beat` must be a multiple of 4 (one step = ticks_per_beat / 4 ticks).
    """
    if ticks_per_beat % STEPS_PER_QUARTER or qpm <= 0:
        raise EncodingError(f"cannot decode at {ticks_per_beat} ticks per beat and {qpm} qpm")
    notes, num_steps = decode_notes(tokens)
    tick = ticks_per_beat // STEPS_PER_QUARTER
    return Song(
        ticks_per_beat=ticks_per_beat,
        notes=tuple(sorted(Note(s * tick, e * tick, p) for s, e, p in notes)),
        tempos=(Tempo(0, round(60_000_000 / qpm)),),
        end_tick=num_steps * tick,
    )


def transpose(tokens: Tokens, semitones: int) -> Tokens | None:
    """`tokens` moved by `semitones`, or None where a pitch would leave 0..127 (as Magenta)."""
    tokens = np.asarray(tokens)
    is_note = tokens >= NEW_NOTE_BASE
    pitch = (tokens.astype(np.int64) - NEW_NOTE_BASE) % NUM_PITCHES
    if is_note.any():
        low, high = pitch[is_note].min() + semitones, pitch[is_note].max() + semitones
        if low < 0 or high >= NUM_PITCHES:
            return None
    return np.where(is_note, tokens.astype(np.int64) + semitones, tokens).astype(np.uint16)


def pitch_range(tokens: Tokens) -> tuple[int, int] | None:
    """Lowest and highest pitch in `tokens`, or None when there are no notes."""
    tokens = np.asarray(tokens)
    notes = tokens[tokens >= NEW_NOTE_BASE].astype(np.int64)
    if not notes.size:
        return None
    pitch = (notes - NEW_NOTE_BASE) % NUM_PITCHES
    return int(pitch.min()), int(pitch.max())
