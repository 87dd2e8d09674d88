"""Sampling and beam search over polyphony tokens with a numpy LSTM, all outputs in one batch.

Beam search has Magenta's meaning: every output keeps `beam_size` sequences; each iteration
branches every sequence `branch_factor` times, samples `steps_per_iteration` events on every
branch, and keeps the `beam_size` best by log-likelihood (under the tempered distribution). With
beam_size = branch_factor = 1 it is plain sampling. A grammar mask keeps every output valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.encoding.polyphony import CONTINUED_NOTE_BASE, END, NEW_NOTE_BASE, STEP_END
from chipline.encoding.polyphony_grammar import GrammarState
from chipline.model.infer import NumpyLSTM, State


@dataclass(frozen=True)
class Search:
    temperature: float = 1.0
    beam_size: int = 1
    branch_factor: int = 1
    steps_per_iteration: int = 1
    pitch_temperature: float | None = None  # the attacks' pitches among themselves; None: the same


class _Batch:
    """Rows being generated: tokens so far, score, model state and grammar state per row."""

    def __init__(self, model: NumpyLSTM, prefix: npt.NDArray[np.uint16], rows: int) -> None:
        state = model.initial_state(1)
        logits = np.zeros((1, model.vocab_size), np.float32)
        grammar = GrammarState(1, strict=True)
        for token in prefix.tolist():
            logits, state = model.step(np.array([token]), state)
            grammar.advance([token])
        pick = np.zeros(rows, dtype=np.int64)
        self.tokens = np.zeros((rows, max(64, 2 * prefix.size)), np.uint16)
        self.tokens[:, : prefix.size] = prefix
        self.length = np.full(rows, prefix.size, dtype=np.int64)
        self.score = np.zeros(rows, dtype=np.float64)
        self.state: State = [(h[pick], c[pick]) for h, c in state]
        self.logits = logits[pick]
        self.grammar = grammar.select(pick)
        self.pending: list[list[int]] = [[] for _ in range(rows)]

    def select(self, rows: npt.NDArray[np.int64]) -> None:
        self.tokens, self.length, self.score = (
            self.tokens[rows],
            self.length[rows],
            self.score[rows],
        )
        self.state = [(h[rows], c[rows]) for h, c in self.state]
        self.logits = self.logits[rows]
        self.grammar = self.grammar.select(rows)
        self.pending = [list(self.pending[r]) for r in rows.tolist()]

    def append(self, tokens: npt.NDArray[np.int64], live: npt.NDArray[np.bool_]) -> None:
        if self.length.max() >= self.tokens.shape[1]:
            self.tokens = np.pad(self.tokens, ((0, 0), (0, self.tokens.shape[1])))
        rows = np.flatnonzero(live)
        self.tokens[rows, self.length[rows]] = tokens[rows]
        self.length[rows] += 1


def generate_tokens(
    model: NumpyLSTM,
    prefix: npt.NDArray[np.uint16],
    num_steps: int,
    num_outputs: int,
    search: Search,
    rng: np.random.Generator,
    inject: Sequence[Sequence[int]] = (),
    inject_start_step: int = 0,
) -> list[npt.NDArray[np.uint16]]:
    """Continue `prefix` (START, then whole steps) until it holds `num_steps` steps; END added.

    `inject[k]` are note tokens played into step `inject_start_step + k` before the model adds
    its own (Magenta's inject_primer_during_generation). Returns `num_outputs` uint16 arrays.
    """
    width = search.beam_size
    batch = _Batch(model, prefix, num_outputs * width)
    _queue_injection(batch, np.ones(num_outputs * width, bool), inject, inject_start_step)
    beam = search.beam_size > 1 or search.branch_factor > 1
    while (batch.grammar.num_steps < num_steps).any():
        if beam:
            batch.select(np.repeat(np.arange(batch.length.size), search.branch_factor))
        for _ in range(search.steps_per_iteration if beam else 1 << 30):
            live = batch.grammar.num_steps < num_steps
            if not live.any():
                break
            _advance(model, batch, live, search, rng, inject, inject_start_step, beam)
        if beam:
            batch.select(_best(batch.score, num_outputs, width))
    best = _best(batch.score, num_outputs, 1) if width > 1 else np.arange(num_outputs)
    return [np.append(batch.tokens[r, : batch.length[r]], END).astype(np.uint16) for r in best]


def _advance(
    model: NumpyLSTM,
    batch: _Batch,
    live: npt.NDArray[np.bool_],
    search: Search,
    rng: np.random.Generator,
    inject: Sequence[Sequence[int]],
    inject_start_step: int,
    track_score: bool,
) -> None:
    """One event for every live row: an injected one where queued, else a masked sample."""
    forced = np.full(live.size, -1, dtype=np.int64)
    if inject:
        forced[:] = [row[0] if row else -1 for row in batch.pending]
        for r in np.flatnonzero((forced >= 0) & live).tolist():
            batch.pending[r].pop(0)
    allowed = batch.grammar.allowed(allow_end=False)
    z = np.where(allowed, batch.logits * np.float32(1.0 / search.temperature), -np.inf)
    if search.pitch_temperature is not None:
        z = _retemper_pitches(z, batch.logits, allowed, search.pitch_temperature)
    z -= z.max(axis=1, keepdims=True)
    cumulative = np.cumsum(np.exp(z), axis=1)  # unnormalised: compare with u * total
    total = cumulative[:, -1:]
    u = rng.random((z.shape[0], 1)) * total
    rows = np.arange(z.shape[0])
    sampled = np.minimum((cumulative < u).sum(axis=1), z.shape[1] - 1)
    sampled = np.where(allowed[rows, sampled], sampled, STEP_END)
    tokens = np.where(forced >= 0, forced, sampled)
    if track_score:
        gain = z[rows, tokens].astype(np.float64) - np.log(total[:, 0].astype(np.float64))
        batch.score += np.where(live & (forced < 0), np.maximum(gain, -1e30), 0.0)
    batch.append(tokens, live)
    batch.grammar.advance(tokens, active=live)
    logits, state = model.step(tokens, batch.state)
    if live.all():
        batch.logits, batch.state = logits, state
    else:
        keep = live[:, None]
        batch.logits = np.where(keep, logits, batch.logits)
        batch.state = [(np.where(keep, h, h0), np.where(keep, c, c0))
                       for (h, c), (h0, c0) in zip(state, batch.state, strict=True)]  # fmt: skip
    _queue_injection(batch, live & (tokens == STEP_END), inject, inject_start_step)


def _retemper_pitches(
    z: npt.NDArray[np.floating], logits: npt.NDArray[np.float32], allowed: npt.NDArray[np.bool_],
    pitch_temperature: float,
) -> npt.NDArray[np.float64]:  # fmt: skip
    """`z` (tempered logits) with the NEW_NOTE tokens tempered among themselves at
    `pitch_temperature`, their total probability unchanged: whether a note starts is drawn at
    the temperature, which pitch it has at the pitch temperature."""
    out = z.astype(np.float64)
    new = slice(NEW_NOTE_BASE, CONTINUED_NOTE_BASE)
    pitch = np.where(allowed[:, new], logits[:, new] / np.float64(pitch_temperature), -np.inf)
    rows = np.isfinite(pitch).any(axis=1)
    total = np.logaddexp.reduce(out[rows, new], axis=1, keepdims=True)
    out[rows, new] = total + pitch[rows] - np.logaddexp.reduce(pitch[rows], axis=1, keepdims=True)
    return out


def _queue_injection(
    batch: _Batch, rows: npt.NDArray[np.bool_], inject: Sequence[Sequence[int]], start: int
) -> None:
    if not inject:
        return
    for r in np.flatnonzero(rows).tolist():
        k = int(batch.grammar.num_steps[r]) - start
        if 0 <= k < len(inject):
            batch.pending[r] = list(inject[k])


def _best(score: npt.NDArray[np.float64], groups: int, keep: int) -> npt.NDArray[np.int64]:
    """Row indices of the `keep` best rows of each of `groups` equal, consecutive groups."""
    per_group = score.reshape(groups, -1)
    order = np.argsort(-per_group, axis=1, kind="stable")[:, :keep]
    return (order + np.arange(groups)[:, None] * per_group.shape[1]).reshape(-1)
