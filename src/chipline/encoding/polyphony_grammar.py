"""The grammar of polyphony tokens, as a batched state machine: masks for sampling, and checks.

A sequence is grammatical when the encoder could have written it: START first, END last and
nowhere else, every step closed by STEP_END, events in a step ordered by pitch from high to low
(a held note before a new one of the same pitch), and a CONTINUED_NOTE only for a note that
sounded in the step before (as many times as it sounded there).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chipline.encoding.polyphony import (
    CONTINUED_NOTE_BASE,
    END,
    NEW_NOTE_BASE,
    NUM_PITCHES,
    START,
    STEP_END,
    VOCAB_SIZE,
    token_name,
)
from chipline.errors import EncodingError

_RANK = 127 - np.arange(NUM_PITCHES)  # 0 for the highest pitch: order within a step
_KEY_CONTINUED = _RANK * 2
_KEY_NEW = _RANK * 2 + 1


class GrammarState:
    """Where each of `batch_size` sequences stands in the grammar.

    `strict=True` (used for sampling) also forbids two events of one pitch in a step, so a
    generated piece never holds two copies of one note; the encoder can write such unisons from
    real files (two voices on one pitch), and `strict=False` accepts them.
    """

    def __init__(self, batch_size: int, strict: bool = False) -> None:
        self.strict = strict
        self.started = np.zeros(batch_size, dtype=bool)
        self.ended = np.zeros(batch_size, dtype=bool)
        self.num_steps = np.zeros(batch_size, dtype=np.int64)
        self.prev_active = np.zeros((batch_size, NUM_PITCHES), dtype=np.int16)
        self.cur_active = np.zeros((batch_size, NUM_PITCHES), dtype=np.int16)
        self.cur_continued = np.zeros((batch_size, NUM_PITCHES), dtype=np.int16)
        self.last_key = np.full(batch_size, -1, dtype=np.int64)  # -1: nothing yet in the step

    def allowed(self, allow_end: bool = True) -> npt.NDArray[np.bool_]:
        """bool, shape (batch_size, 259): which tokens may come next in each sequence."""
        batch = self.started.size
        mask = np.zeros((batch, VOCAB_SIZE), dtype=bool)
        live = self.started & ~self.ended
        mask[~self.started, START] = True
        mask[live, STEP_END] = True
        if allow_end:
            mask[live & (self.last_key < 0), END] = True
        last = self.last_key[:, None]
        if self.strict:
            rank_ok = _RANK[None, :] > last // 2
            new_ok = cont_ok = rank_ok | (last < 0)
        else:
            new_ok = _KEY_NEW[None, :] >= last
            cont_ok = _KEY_CONTINUED[None, :] >= last
        cont_ok = cont_ok & (self.cur_continued < self.prev_active)
        mask[:, NEW_NOTE_BASE:CONTINUED_NOTE_BASE] = new_ok & live[:, None]
        mask[:, CONTINUED_NOTE_BASE:] = cont_ok & live[:, None]
        return mask

    def advance(self, tokens: npt.ArrayLike, active: npt.NDArray[np.bool_] | None = None) -> None:
        """Take one token per sequence (shape (batch_size,)).

        Rows already ended, and rows where `active` is False, ignore theirs.
        """
        tokens = np.asarray(tokens, dtype=np.int64)
        live = ~self.ended if active is None else ~self.ended & active
        self.started |= live & (tokens == START)
        self.ended |= live & (tokens == END)
        step = live & (tokens == STEP_END)
        if step.any():
            self.prev_active[step] = self.cur_active[step]
            self.cur_active[step] = 0
            self.cur_continued[step] = 0
            self.last_key[step] = -1
            self.num_steps[step] += 1
        rows = np.flatnonzero(live & (tokens >= NEW_NOTE_BASE))
        if rows.size:
            pitch = (tokens[rows] - NEW_NOTE_BASE) % NUM_PITCHES
            is_new = tokens[rows] < CONTINUED_NOTE_BASE
            # One token per row, so (row, pitch) pairs are distinct and += is exact.
            self.cur_active[rows, pitch] += 1
            self.cur_continued[rows[~is_new], pitch[~is_new]] += 1
            self.last_key[rows] = np.where(is_new, _KEY_NEW[pitch], _KEY_CONTINUED[pitch])

    def select(self, rows: npt.ArrayLike) -> GrammarState:
        """A new state holding copies of the given rows (for beam search)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = GrammarState(rows.size, self.strict)
        for name in (
            "started",
            "ended",
            "num_steps",
            "prev_active",
            "cur_active",
            "cur_continued",
            "last_key",
        ):
            setattr(out, name, getattr(self, name)[rows].copy())
        return out


def grammar_error(tokens: npt.ArrayLike, strict: bool = False) -> str | None:
    """Why `tokens` is not a complete grammatical sequence, or None when it is."""
    seq = np.asarray(tokens, dtype=np.int64)
    if seq.size == 0:
        return "empty sequence (expected START ... END)"
    if seq.min() < 0 or seq.max() >= VOCAB_SIZE:
        return f"token outside the vocabulary 0..{VOCAB_SIZE - 1}"
    state = GrammarState(1, strict)
    for position, token in enumerate(seq.tolist()):
        if state.ended[0]:
            return f"position {position}: {token_name(token)} after END"
        if not state.allowed()[0, token]:
            return f"position {position}: {token_name(token)} is not allowed here"
        state.advance([token])
    if not state.ended[0]:
        return "sequence does not end with END"
    return None


def check_grammar(tokens: npt.ArrayLike, strict: bool = False) -> None:
    """Raise `EncodingError` saying where `tokens` breaks the grammar."""
    error = grammar_error(tokens, strict)
    if error is not None:
        raise EncodingError(f"not a valid polyphony sequence: {error}")
