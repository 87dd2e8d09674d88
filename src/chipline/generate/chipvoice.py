"""Chip-voice generation in numpy: grammar-masked sampling with the header set by the controls.

Every row is sampled under `ChipVoiceGrammar`'s mask, so every output decodes to a playable chip
score. On top of the grammar, `Controls` add: pitches in the key's scale (`in_key`), the loop
start after `intro_bars` bars, and for a stinger a last note on the tonic in Pulse 1 and the
triangle (in one of them where the voice count leaves room for one only). A header without a
voice count has it drawn by the model. With `loop`, the last bar is drawn
`num_candidates` times and the candidate under which the model finds the loop's first bar most
likely to follow, less `seam_weight` per voice whose sound changes across the seam, is kept
(the seam reads and sounds like any bar line).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from chipline.chip import CHIP_VOICES, ChipScore
from chipline.encoding import chipvoice as cv
from chipline.encoding.chipvoice_grammar import ChipVoiceGrammar
from chipline.generate.chipvoice_controls import Controls, constrain, header_tokens, key_bias
from chipline.keys import Key
from chipline.model.infer import NumpyLSTM, State

__all__ = [
    "Controls",
    "generate",
    "header_tokens",
    "model_controls",
    "prior_key",
    "random_controls",
    "seam_logp",
    "seam_mismatch",
]

_KEY_SLOT, _METER_SLOT, _BARS_SLOT = 2, 3, 5  # header positions (START is 0, the chip 1)


class _Rows:
    """Rows being sampled: tokens, log-likelihood, LSTM state, next logits and grammar per row."""

    def __init__(self, model: NumpyLSTM, prefix: list[int], controls: Controls) -> None:
        self.model, self.controls = model, controls
        self.tokens = [list(prefix)]
        self.grammars = [ChipVoiceGrammar()]
        self.pitch = [-1]  # the pitch of the note being written, -1 when none
        self.bar_notes = [0]  # pitched notes started in the current bar
        self.logp = np.zeros(1)
        self.state: State = model.initial_state(1)
        self.logits = np.zeros((1, model.vocab_size), np.float32)
        self.bias = key_bias(controls, model.vocab_size)
        for token in prefix:
            self.grammars[0].advance(token)
            self.logits, self.state = model.step(np.array([token]), self.state)

    def select(self, rows: list[int]) -> _Rows:
        """A new batch holding copies of `rows` (a row may repeat)."""
        out = copy.copy(self)
        out.tokens = [list(self.tokens[r]) for r in rows]
        out.grammars = [copy.deepcopy(self.grammars[r]) for r in rows]
        out.pitch = [self.pitch[r] for r in rows]
        out.bar_notes = [self.bar_notes[r] for r in rows]
        out.logp = self.logp[rows]
        out.state = [(h[rows], c[rows]) for h, c in self.state]
        out.logits = self.logits[rows]
        return out

    def run(self, done: Callable[[ChipVoiceGrammar], bool], rng: np.random.Generator) -> None:
        """Sample every row until `done(grammar)` holds for it (END always ends a row)."""
        while True:
            live = [i for i, g in enumerate(self.grammars) if not g.ended and not done(g)]
            if not live:
                return
            picks = np.zeros(len(self.grammars), dtype=np.int64)
            picks[live] = self._draw(live, rng)
            self.feed(picks, live)

    def feed(self, picks: npt.NDArray[np.int64], live: list[int]) -> None:
        """Append `picks[i]` to each live row i, scoring it under the model's distribution."""
        logits, state = self.model.step(picks, self.state)
        logsm = _log_softmax(self.logits)
        for i in live:
            token = int(picks[i])
            self.logp[i] += logsm[i, token]
            grammar = self.grammars[i]
            if grammar.note_stage == "pitch":
                self.pitch[i] = cv.token_pitch(token, grammar.tonic)
                self.bar_notes[i] += token < cv.NOISE_BASE
            elif token == cv.BAR:
                self.bar_notes[i] = 0
            grammar.advance(token)
            self.tokens[i].append(token)
        keep = np.zeros(len(self.grammars), dtype=bool)
        keep[[i for i in live if picks[i] != cv.END]] = True  # the state stays before END
        self.logits = np.where(keep[:, None], logits, self.logits)
        self.state = [
            (np.where(keep[:, None], h, h0), np.where(keep[:, None], c, c0))
            for (h, c), (h0, c0) in zip(state, self.state, strict=True)
        ]

    def _draw(self, live: list[int], rng: np.random.Generator) -> npt.NDArray[np.int64]:
        """One token per live row from the tempered, masked softmax (a row about to write a
        pitch at the pitch temperature)."""
        allowed = np.stack(
            [
                constrain(self.grammars[i], self.controls, self.pitch[i], self.bar_notes[i])
                for i in live
            ]  # fmt: skip
        )
        controls = self.controls
        pitch_temperature = controls.pitch_temperature
        if pitch_temperature is None:
            pitch_temperature = controls.temperature
        temperature = [
            pitch_temperature if self.grammars[i].note_stage == "pitch" else controls.temperature
            for i in live
        ]  # fmt: skip
        logits = (self.logits[live] + self.bias).astype(np.float64) / np.c_[temperature]
        logits = np.where(allowed, logits, -np.inf)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        cumulative = np.cumsum(probs, axis=1)
        target = rng.random(len(live)) * cumulative[:, -1]
        picks = (cumulative <= target[:, None]).sum(axis=1)
        return np.minimum(picks, self.model.vocab_size - 1)


def seam_mismatch(score: ChipScore) -> float:
    """How much the sound changes across the loop seam: per voice, 0 where it sounds the same
    pitch (or is silent) on both sides, up to 1 for an octave apart or sound against silence."""
    last, first = score.end_tick - 1, score.loop_start_tick
    total = 0.0
    for voice in CHIP_VOICES[score.chip]:
        own = [n for n in score.notes if n.voice == voice]
        before = [n.pitches[0] for n in own if n.start_tick <= last < n.end_tick]
        after = [n.pitches[0] for n in own if n.start_tick <= first < n.end_tick]
        if before and after:
            total += min(abs(before[0] - after[0]), 12) / 12
        else:
            total += float(bool(before) != bool(after))
    return total


def _log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    x = logits.astype(np.float64)
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _at_last_bar(grammar: ChipVoiceGrammar) -> bool:
    """Just inside the last bar (after its BAR and any LOOP_START), before its first note."""
    return grammar.bars_done == grammar.num_bars and grammar.position < 0


def _bar_tokens(tokens: list[int], bar: int) -> list[int]:
    """The tokens of bar `bar` (0-based), from its BAR up to the next BAR or END."""
    starts = [i for i, t in enumerate(tokens) if t == cv.BAR]
    stop = starts[bar + 1] if bar + 1 < len(starts) else len(tokens) - 1
    return tokens[starts[bar] : stop]


def seam_logp(rows: _Rows, loop_bar: int) -> npt.NDArray[np.float64]:
    """float64 (rows,): log-likelihood of the loop bar's notes played after each row's end.

    Each row's state stands before its END; the loop bar's tokens are fed in END's place.
    """
    total = np.zeros(len(rows.tokens))
    follow = [[x for x in _bar_tokens(t, loop_bar) if x != cv.LOOP_START] for t in rows.tokens]
    state, logits = rows.state, rows.logits
    width = max(len(f) for f in follow)
    for k in range(width):
        tokens = np.array([f[k] if k < len(f) else cv.END for f in follow], dtype=np.int64)
        if k > 0:  # the BAR itself only says "not END"; the notes are what must fit
            logsm = _log_softmax(logits)
            total += np.where(
                [k < len(f) for f in follow], logsm[np.arange(len(follow)), tokens], 0
            )
        logits, state = rows.model.step(tokens, state)
    return total


def generate(
    model: NumpyLSTM, controls: Controls, num_outputs: int, rng: np.random.Generator,
    num_shared_bars: int = 0,
) -> list[npt.NDArray[np.uint16]]:  # fmt: skip
    """`num_outputs` token sequences under `controls`, each passing `chipvoice_grammar.check`.

    `num_shared_bars` > 0 gives variations: the outputs share their first bars (drawn once).
    """
    rows = _Rows(model, header_tokens(controls), controls)
    if num_shared_bars:
        shared = min(num_shared_bars, controls.num_bars - 1)
        rows.run(lambda g: g.bars_done == shared + 1 and g.position < 0, rng)
    rows = rows.select([0] * num_outputs)
    if not controls.loop:
        rows.run(lambda g: False, rng)
        return [np.array(t, dtype=np.uint16) for t in rows.tokens]
    rows.run(_at_last_bar, rng)
    count = controls.num_candidates
    candidates = rows.select([r for r in range(num_outputs) for _ in range(count)])
    candidates.run(lambda g: False, rng)
    mismatch = [seam_mismatch(cv.decode(t)) for t in candidates.tokens]
    score = seam_logp(candidates, controls.intro_bars) - controls.seam_weight * np.array(mismatch)
    score = score.reshape(num_outputs, count)
    best = [r * count + int(np.argmax(score[r])) for r in range(num_outputs)]
    return [np.array(candidates.tokens[b], dtype=np.uint16) for b in best]


def model_controls(model: NumpyLSTM, rng: np.random.Generator, num_steps: int) -> Controls:
    """Controls drawn from the model's own header distribution (the chips, keys, meters, tempi,
    lengths, loop, densities and voice counts of its training data), the length among those
    that cover `num_steps` 16th steps in the drawn meter; no key bias and no loop search, so the
    notes are the model's own.

    The length is drawn, not set: the model learns what kind of piece is how long (a 16-bar
    reel, an 8-bar chorale phrase), so fixing it would pick the kind of music too. The key comes
    from the model's `key_prior` where it has one: its training windows were transposed, so its
    own key distribution is near uniform where real pieces keep to a few keys.
    """
    grammar, tokens = ChipVoiceGrammar(), [cv.START]
    grammar.advance(cv.START)
    logits, state = model.step(np.array([cv.START]), model.initial_state(1))
    while len(tokens) < cv.HEADER_LENGTH:
        allowed = grammar.mask()
        if len(tokens) == _BARS_SLOT:
            meter = cv.METERS[tokens[_METER_SLOT] - cv.METER_BASE]
            need = min(-(-num_steps // cv.steps_per_bar(meter)), cv.MAX_BARS)
            allowed[cv.BARS_BASE : cv.BARS_BASE + need - 1] = False
        x = np.where(allowed, logits[0].astype(np.float64), -np.inf)
        probs = np.exp(x - x.max())
        if len(tokens) == _KEY_SLOT and model.key_prior.size:
            token = cv.KEY_BASE + prior_key(model, rng).index
        else:
            token = int(rng.choice(probs.size, p=probs / probs.sum()))
        grammar.advance(token)
        tokens.append(token)
        logits, state = model.step(np.array([token]), state)
    h = cv.read_header(np.array(tokens))
    return Controls(chip=h.chip, key=h.key, meter=h.meter, qpm=float(h.qpm),
                    num_bars=h.num_bars, density=h.density, voices=h.voices, loop=h.loop,
                    in_key=False, key_bias=0.0, num_candidates=1)  # fmt: skip


def prior_key(model: NumpyLSTM, rng: np.random.Generator) -> Key:
    """A key drawn in the shares of the model's `key_prior` (KEY_0..KEY_23; it must have one)."""
    index = int(rng.choice(model.key_prior.size, p=model.key_prior / model.key_prior.sum()))
    return Key(index % 12, index >= 12)


def random_controls(rng: np.random.Generator, **fixed: object) -> Controls:
    """Controls drawn at random (for tests and benchmarks), with `fixed` ones set."""
    stinger = bool(rng.integers(0, 4) == 0)
    num_bars = int(rng.integers(1, 5)) if stinger else int(rng.integers(1, 9))
    controls = Controls(
        chip=cv.CHIPS[int(rng.integers(0, len(cv.CHIPS)))],
        key=Key(int(rng.integers(0, 12)), bool(rng.integers(0, 2))),
        meter=cv.METERS[int(rng.integers(0, len(cv.METERS)))],
        qpm=float(rng.integers(60, 200)),
        num_bars=num_bars,
        density=int(rng.integers(0, 4)),
        voices=int(rng.integers(1, 5)) if rng.integers(0, 2) else None,  # 1..4 fit either chip
        loop=not stinger,
        intro_bars=int(rng.integers(0, num_bars)) if not stinger else 0,
        stinger=stinger,
        num_candidates=2,
    )
    return replace(controls, **fixed)  # type: ignore[arg-type]
