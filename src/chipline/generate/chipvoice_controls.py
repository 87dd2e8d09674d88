"""The controls of chip-voice generation and the masks they add to the codec's grammar.

`Controls` set the header (chip, key, meter, tempo, bars, loop, density, and the number of voices
or leave it to the model) and the rules on top of `ChipVoiceGrammar`: pitches in the key's scale
with a bias to the tonic triad, a floor of notes per bar from the density, the loop start after
the intro, and a stinger's tonic ending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.chip import CHIP_VOICES, ChipName
from chipline.encoding import chipvoice as cv
from chipline.encoding.chipvoice_grammar import ChipVoiceGrammar
from chipline.errors import ConfigError
from chipline.keys import Key

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
    voices: int | None = None  # at most this many voices play; None: the model draws it
    loop: bool = True
    intro_bars: int = 0
    stinger: bool = False
    in_key: bool = True
    key_bias: float = 0.5  # logit bonus for the tonic (0.75 and 0.5 of it: third and fifth)
    temperature: float = 1.0
    pitch_temperature: float | None = None  # a note's pitch; None: the temperature
    num_candidates: int = 16  # last-bar candidates scored against the loop seam
    seam_weight: float = 8.0  # nats of seam likelihood one voice's change at the seam costs

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
        most = len(CHIP_VOICES[self.chip])
        if self.voices is not None and not 1 <= self.voices <= most:
            raise ConfigError(f"voices must be 1..{most} on the {self.chip}, got {self.voices}")
        pitch_temperature = (
            self.temperature if self.pitch_temperature is None else self.pitch_temperature
        )
        if min(self.temperature, pitch_temperature) <= 0 or self.num_candidates < 1:
            raise ConfigError("temperatures must be > 0 and num_candidates >= 1")
        if self.key_bias < 0:
            raise ConfigError("key_bias must be >= 0")


def header_tokens(controls: Controls) -> list[int]:
    """START and the header tokens for `controls` (tempo snapped to the codec's bins); without
    `controls.voices` the last header token is left for the model to draw."""
    qpm = min(cv.TEMPO_BINS, key=lambda q: (abs(q - controls.qpm), q))
    header = cv.Header(controls.chip, controls.key, controls.meter, qpm, controls.num_bars,
                       controls.loop, controls.density, controls.voices or 1)  # fmt: skip
    tokens = cv.header_tokens(header)
    return tokens if controls.voices else tokens[:-1]


def key_bias(controls: Controls, vocab_size: int) -> npt.NDArray[np.float32]:
    """float32 (vocab_size,): added to the logits; favours the tonic triad's pitch classes."""
    bias = np.zeros(vocab_size, np.float32)
    third = 3 if controls.key.minor else 4
    steps = np.arange(128) % 12  # PITCH tokens are written in C
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
        if controls.stinger:
            _keep_room_for_tonic(allowed, grammar)
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
    steps = np.arange(128) % 12  # above the tonic: PITCH tokens are written in C
    if controls.stinger and last and grammar.note_voice in _tonic_voices(grammar):
        ok = steps == 0
    elif controls.in_key:
        ok = np.isin(steps, _MINOR_SCALE if controls.key.minor else _MAJOR_SCALE)
    else:
        return
    narrowed = allowed[cv.PITCH_BASE : cv.NOISE_BASE] & ok
    if narrowed.any():
        allowed[cv.PITCH_BASE : cv.NOISE_BASE] = narrowed


def _ending_durations(
    allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar, controls: Controls, pitch: int
) -> None:
    """A stinger's Pulse 1 or triangle note off the tonic must end before the last bar."""
    if grammar.note_voice not in _tonic_voices(grammar) or pitch % 12 == controls.key.tonic:
        return
    last_bar_start = (grammar.num_bars - 1) * grammar.steps_per_bar
    for i, length in enumerate(cv.DURATIONS):
        if grammar.step + length > last_bar_start:
            allowed[cv.DUR_BASE + i] = False
    if not allowed[cv.DUR_BASE :].any():
        allowed[cv.DUR_BASE] = True  # cannot happen: notes start before the last bar here


def _keep_room_for_tonic(allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar) -> None:
    """A stinger's last room for another voice goes to Pulse 1 or the triangle while neither
    plays, so one of them is there to end on the tonic."""
    if grammar.used.isdisjoint(_TONIC_VOICES) and len(grammar.used) + 1 >= grammar.max_voices:
        others = [v for v in grammar.voices if v not in _TONIC_VOICES and v not in grammar.used]
        allowed[[cv.VOICE_BASE + v for v in others]] = False


def _tonic_voices(grammar: ChipVoiceGrammar) -> list[int]:
    """Pulse 1 and the triangle, less one the voice count leaves no room for."""
    return [v for v in _TONIC_VOICES if grammar.may_use(v)]


def _place_tonic_voices(allowed: npt.NDArray[np.bool_], grammar: ChipVoiceGrammar) -> None:
    """In a stinger's last bar, Pulse 1 and the triangle sound (where the voice count leaves them
    room): silent ones start on its downbeat (notes held into the bar are on the tonic already,
    see `_ending_durations`)."""
    bar_start = (grammar.bars_done - 1) * grammar.steps_per_bar
    need = [v for v in _tonic_voices(grammar) if grammar.busy_until[v] <= bar_start]
    if grammar.position > 0 or not need:
        return
    narrowed = np.zeros_like(allowed)
    if grammar.position < 0:  # right after BAR: go to the downbeat
        narrowed[cv.POS_BASE] = True
    else:
        for v in range(grammar.last_voice + 1, need[0] + 1):
            narrowed[cv.VOICE_BASE + v] = allowed[cv.VOICE_BASE + v]
    allowed &= narrowed
