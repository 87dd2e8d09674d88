"""Chip-voice generation in numpy: grammar-masked sampling with the header set by the controls.

Every row is sampled under `ChipVoiceGrammar`'s mask, so every output decodes to a playable chip
score. On top of the grammar, `Controls` add: pitches in the key's scale (`in_key`), the loop
start after `intro_bars` bars, and for a stinger a last note on the tonic in Pulse 1 and the
triangle. With `loop`, the last bar is drawn `num_candidates` times and the candidate under which
the model finds the loop's first bar most likely to follow is kept (the seam reads as music).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipName
from chipline.encoding import chipvoice as cv
from chipline.encoding.chipvoice_grammar import ChipVoiceGrammar
from chipline.errors import ConfigError
from chipline.keys import Key
from chipline.model.infer import NumpyLSTM, State

_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the raised seventh
DENSITY_FLOOR = (0, 2, 4, 8)  # pitched notes a bar needs before it may end, per density
_TONIC_VOICES = (cv.VOICE_ORDER.index("Pulse 1"), cv.VOICE_ORDER.index("Triangle"))


@dataclass(frozen=True)
class Controls:
    """What to generate. `intro_bars` play once before the loop; a stinger is a one-shot."""

    chip: ChipName = "nes"
    key: Key = Key(0)
    meter: tuple[int, int] = (4, 4)
    qpm: float = 120.0
    num_bars: int = 16
    density: int = 2
    loop: bool = True
    intro_bars: int = 0
    stinger: bool = False
    in_key: bool = True
    key_bias: float = 2.0  # logit bonus for the tonic (and half for its third and fifth)
    temperature: float = 1.0
    num_candidates: int = 8  # last-bar candidates scored against the loop seam

    def __post_init__(self) -> None:
        if self.chip not in cv.CHIPS or self.meter not in cv.METERS:
            raise ConfigError(f"chip must be one of {cv.CHIPS}, meter one of {cv.METERS}")
        if not 1 <= self.num_bars <= cv.MAX_BARS:
            raise ConfigError(f"bars must be 1..{cv.MAX_BARS}, got {self.num_bars}")
        if self.stinger and (self.loop or self.num_bars > 4):
            raise ConfigError("a stinger is a one-shot of 1 to 4 bars: no --loop, --bars <= 4")
        if not 0 <= self.intro_bars < self.num_bars or (self.intro_bars and not self.loop):
            raise ConfigError("intro bars must be fewer than the bars, and need --loop")
        if not 0 <= self.density <= len(cv.DENSITY_LIMITS):
            raise ConfigError(f"density must be 0..{len(cv.DENSITY_LIMITS)}")
        if self.temperature <= 0 or self.num_candidates < 1 or self.key_bias < 0:
            raise ConfigError("temperature must be > 0, num_candidates >= 1, key_bias >= 0")


def header_tokens(controls: Controls) -> list[int]:
    """START and the seven header tokens for `controls` (tempo snapped to the codec's bins)."""
    qpm = min(cv.TEMPO_BINS, key=lambda q: (abs(q - controls.qpm), q))
    header = cv.Header(controls.chip, controls.key, controls.meter, qpm, controls.num_bars,
                       controls.loop, controls.density)  # fmt: skip
    return cv.header_tokens(header)


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
                self.pitch[i] = token - cv.PITCH_BASE
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
        """One token per live row from the tempered, masked softmax."""
        allowed = np.stack(
            [
                constrain(self.grammars[i], self.controls, self.pitch[i], self.bar_notes[i])
                for i in live
            ]  # fmt: skip
        )
        logits = (self.logits[live] + self.bias).astype(np.float64) / self.controls.temperature
        logits = np.where(allowed, logits, -np.inf)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        cumulative = np.cumsum(probs, axis=1)
        target = rng.random(len(live)) * cumulative[:, -1]
        picks = (cumulative <= target[:, None]).sum(axis=1)
        return np.minimum(picks, self.model.vocab_size - 1)


def key_bias(controls: Controls, vocab_size: int) -> npt.NDArray[np.float32]:
    """float32 (vocab_size,): added to the logits; favours the tonic triad's pitch classes."""
    bias = np.zeros(vocab_size, np.float32)
    third = 3 if controls.key.minor else 4
    steps = (np.arange(128) - controls.key.tonic) % 12
    weight = np.select([steps == 0, steps == third, steps == 7], [1.0, 0.75, 0.5], 0.0)
    bias[cv.PITCH_BASE : cv.PITCH_BASE + 128] = controls.key_bias * weight
    return bias


def constrain(
    grammar: ChipVoiceGrammar, controls: Controls, pitch: int = -1, bar_notes: int = 0
) -> npt.NDArray[np.bool_]:
    """The grammar's mask narrowed by the controls (never to nothing while a row is unfinished).

    `pitch`: the pitch of the note being written; `bar_notes`: pitched notes started in the
    current bar (a bar ends only after the density's floor, where the grammar leaves room).
    """
    allowed = grammar.mask()
    if grammar.length < cv.HEADER_LENGTH:
        return allowed
    in_last_bar = grammar.bars_done == grammar.num_bars
    if grammar.note_stage == "pitch":
        _pitch_rules(allowed, grammar, controls, in_last_bar)
    elif grammar.note_stage == "attr" and controls.stinger:
        _ending_durations(allowed, grammar, controls, pitch)
    elif grammar.note_stage == "" and grammar.length >= cv.HEADER_LENGTH + 1:
        wants_loop_start = controls.intro_bars and grammar.bars_done == controls.intro_bars + 1
        if allowed[cv.LOOP_START] and wants_loop_start:
            allowed[:] = False
            allowed[cv.LOOP_START] = True
        allowed[cv.LOOP_START] &= bool(wants_loop_start)
        if controls.stinger and in_last_bar:
            _place_tonic_voices(allowed, grammar)
        if bar_notes < DENSITY_FLOOR[controls.density]:
            _keep_bar_open(allowed)
    return allowed


def _keep_bar_open(allowed: npt.NDArray[np.bool_]) -> None:
    """No BAR or END while another token may come (the bar has too few notes yet)."""
    others = allowed.copy()
    others[[cv.BAR, cv.END]] = False
    if others.any():
        allowed[[cv.BAR, cv.END]] = False


def _pitch_rules(
    allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar, controls: Controls, last: bool
) -> None:
    if not allowed[cv.PITCH_BASE : cv.NOISE_BASE].any():
        return  # the noise
    classes = np.arange(128) % 12
    if controls.stinger and last and grammar.note_voice in _TONIC_VOICES:
        ok = classes == controls.key.tonic
    elif controls.in_key:
        scale = _MINOR_SCALE if controls.key.minor else _MAJOR_SCALE
        ok = np.isin((classes - controls.key.tonic) % 12, scale)
    else:
        return
    narrowed = allowed[cv.PITCH_BASE : cv.NOISE_BASE] & ok
    if narrowed.any():
        allowed[cv.PITCH_BASE : cv.NOISE_BASE] = narrowed


def _ending_durations(
    allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar, controls: Controls, pitch: int
) -> None:
    """A stinger's Pulse 1 or triangle note off the tonic must end before the last bar."""
    if grammar.note_voice not in _TONIC_VOICES or pitch % 12 == controls.key.tonic:
        return
    last_bar_start = (grammar.num_bars - 1) * grammar.steps_per_bar
    for i, length in enumerate(cv.DURATIONS):
        if grammar.step + length > last_bar_start:
            allowed[cv.DUR_BASE + i] = False
    if not allowed[cv.DUR_BASE :].any():
        allowed[cv.DUR_BASE] = True  # cannot happen: notes start before the last bar here


def _place_tonic_voices(allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar) -> None:
    """In a stinger's last bar, Pulse 1 and the triangle sound: silent ones start on its
    downbeat (notes held into the bar are on the tonic already, see `_ending_durations`)."""
    bar_start = (grammar.bars_done - 1) * grammar.steps_per_bar
    need = [v for v in _TONIC_VOICES if grammar.busy_until[v] <= bar_start]
    if grammar.position > 0 or not need:
        return
    narrowed = np.zeros_like(allowed)
    if grammar.position < 0:  # right after BAR: go to the downbeat
        narrowed[cv.POS_BASE] = True
    else:
        for v in range(grammar.last_voice + 1, need[0] + 1):
            narrowed[cv.VOICE_BASE + v] = allowed[cv.VOICE_BASE + v]
    allowed &= narrowed


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
    score = seam_logp(candidates, controls.intro_bars).reshape(num_outputs, count)
    best = [r * count + int(np.argmax(score[r])) for r in range(num_outputs)]
    return [np.array(candidates.tokens[b], dtype=np.uint16) for b in best]


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
        loop=not stinger,
        intro_bars=int(rng.integers(0, num_bars)) if not stinger else 0,
        stinger=stinger,
        num_candidates=2,
    )
    return replace(controls, **fixed)  # type: ignore[arg-type]
