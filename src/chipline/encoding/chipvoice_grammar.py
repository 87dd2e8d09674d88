"""The grammar of chip-voice tokens as a state machine: sampling masks and checks.

Every sequence it accepts decodes to a playable chip score: the header in order, exactly the
number of bars the header gives, positions increasing within a bar, voices of the header's chip
in order at a position, no more different voices than the header's count, one note at a time
per voice, pitches in each voice's range, timbres the voice has, and no note past the end of the
piece.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chipline.chip import CHIP_VOICES, VOICES
from chipline.encoding import chipvoice as cv
from chipline.errors import EncodingError

_HEADER_RANGES = (
    (cv.START, cv.START + 1),
    (cv.CHIP_BASE, cv.CHIP_BASE + len(cv.CHIPS)),
    (cv.KEY_BASE, cv.KEY_BASE + 24),
    (cv.METER_BASE, cv.METER_BASE + len(cv.METERS)),
    (cv.TEMPO_BASE, cv.TEMPO_BASE + len(cv.TEMPO_BINS)),
    (cv.BARS_BASE, cv.BARS_BASE + cv.MAX_BARS),
    (cv.LOOP, cv.ONESHOT + 1),
    (cv.DENSITY_BASE, cv.DENSITY_BASE + len(cv.DENSITY_LIMITS) + 1),
    (cv.VOICES_BASE, cv.VOICES_BASE + cv.MAX_VOICES),  # narrowed to the chip's voices
    (cv.BAR, cv.BAR + 1),
)
_VOICES_SLOT = cv.HEADER_LENGTH - 1


class ChipVoiceGrammar:
    """Where one sequence stands in the grammar; `mask()` lists the tokens allowed next."""

    def __init__(self) -> None:
        self.length = 0
        self.voices: tuple[int, ...] = ()  # the chip's voices
        self.tonic = 0  # the key's tonic pitch class (PITCH tokens are written in C)
        self.max_voices = 0  # how many different ones may play
        self.used: set[int] = set()  # the voices that have played
        self.steps_per_bar = self.num_bars = 0
        self.loop = False
        self.bars_done = 0
        self.position = -1  # step in the current bar, -1 before the first POS
        self.last_voice = -1  # the last voice that started a note at this position
        self.busy_until = [0] * len(cv.VOICE_ORDER)  # absolute step each voice is free from
        self.at_bar_start = self.loop_start_placed = self.ended = False
        self.expect_voice = False  # a position is followed by at least one note
        self.note_voice = -1  # the voice whose note is being written, -1 between notes
        self.note_stage = ""  # "pitch", then "attr" (volume, timbre or duration)
        self.seen_volume = self.seen_timbre = False

    @property
    def total_steps(self) -> int:
        return self.num_bars * self.steps_per_bar

    @property
    def step(self) -> int:
        return (self.bars_done - 1) * self.steps_per_bar + max(self.position, 0)

    def mask(self) -> npt.NDArray[np.bool_]:
        """bool, shape (VOCAB_SIZE,): the tokens that may come next."""
        allowed = np.zeros(cv.VOCAB_SIZE, dtype=bool)
        if self.ended:
            return allowed
        if self.length < len(_HEADER_RANGES):
            low, high = _HEADER_RANGES[self.length]
            if self.length == _VOICES_SLOT:
                high = low + len(self.voices)
            allowed[low:high] = True
        elif self.note_stage == "pitch":
            self._pitch_mask(allowed)
        elif self.note_stage == "attr":
            self._attr_mask(allowed)
        else:
            self._body_mask(allowed)
        return allowed

    def advance(self, token: int) -> None:
        """Take `token`; raises EncodingError naming the position if it is not allowed."""
        if not self.mask()[token]:
            name = cv.TOKENS[token] if 0 <= token < cv.VOCAB_SIZE else f"<invalid {token}>"
            raise EncodingError(f"token {self.length} ({name}) breaks the chip-voice grammar")
        self._take(int(token))
        self.length += 1

    def _take(self, token: int) -> None:
        if self.length < len(_HEADER_RANGES) - 1:
            self._take_header(token)
        elif token == cv.BAR:
            self.bars_done += 1
            self.position, self.last_voice, self.at_bar_start = -1, -1, True
        elif token == cv.END:
            self.ended = True
        elif token == cv.LOOP_START:
            self.loop_start_placed = True
        elif cv.POS_BASE <= token < cv.VOICE_BASE:
            self.position, self.last_voice = token - cv.POS_BASE, -1
            self.at_bar_start, self.expect_voice = False, True
        elif cv.VOICE_BASE <= token < cv.PITCH_BASE:
            self.note_voice, self.note_stage = token - cv.VOICE_BASE, "pitch"
            self.used.add(self.note_voice)
            self.expect_voice = False
            self.seen_volume = self.seen_timbre = False
        elif self.note_stage == "pitch":
            self.note_stage = "attr"
        elif cv.VOL_BASE <= token < cv.TIMBRE_BASE:
            self.seen_volume = True
        elif cv.TIMBRE_BASE <= token < cv.DUR_BASE:
            self.seen_volume = self.seen_timbre = True
        else:  # a duration ends the note
            self.busy_until[self.note_voice] = self.step + cv.DURATIONS[token - cv.DUR_BASE]
            self.last_voice, self.note_voice, self.note_stage = self.note_voice, -1, ""

    def _take_header(self, token: int) -> None:
        if cv.CHIP_BASE <= token < cv.KEY_BASE:
            chip = cv.CHIPS[token - cv.CHIP_BASE]
            self.voices = tuple(cv.VOICE_ORDER.index(v) for v in CHIP_VOICES[chip])
        elif cv.KEY_BASE <= token < cv.METER_BASE:
            self.tonic = (token - cv.KEY_BASE) % 12
        elif cv.METER_BASE <= token < cv.TEMPO_BASE:
            self.steps_per_bar = cv.steps_per_bar(cv.METERS[token - cv.METER_BASE])
        elif cv.BARS_BASE <= token < cv.DENSITY_BASE:
            self.num_bars = token - cv.BARS_BASE + 1
        elif token in (cv.LOOP, cv.ONESHOT):
            self.loop = token == cv.LOOP
        elif cv.VOICES_BASE <= token < cv.VOICES_BASE + cv.MAX_VOICES:
            self.max_voices = token - cv.VOICES_BASE + 1

    def may_use(self, voice: int) -> bool:
        """Whether `voice` (an index into VOICE_ORDER) may play in this piece at all."""
        return voice in self.voices and (voice in self.used or len(self.used) < self.max_voices)

    def _free_voices(self, step: int, after: int) -> list[int]:
        return [
            v for v in self.voices if v > after and self.busy_until[v] <= step and self.may_use(v)
        ]

    def _body_mask(self, allowed: npt.NDArray[np.bool_]) -> None:
        if self.expect_voice:
            for v in self._free_voices(self.step, -1):
                allowed[cv.VOICE_BASE + v] = True
            return
        allowed[cv.BAR] = self.bars_done < self.num_bars
        allowed[cv.END] = self.bars_done == self.num_bars
        bar_start = (self.bars_done - 1) * self.steps_per_bar
        allowed[cv.LOOP_START] = (
            self.at_bar_start and self.loop and not self.loop_start_placed and self.bars_done > 1
        )
        if self.position >= 0:
            for v in self._free_voices(self.step, self.last_voice):
                allowed[cv.VOICE_BASE + v] = True
        for p in range(self.position + 1, self.steps_per_bar):
            if self._free_voices(bar_start + p, -1):
                allowed[cv.POS_BASE + p] = True

    def _pitch_mask(self, allowed: npt.NDArray[np.bool_]) -> None:
        voice = VOICES[cv.VOICE_ORDER[self.note_voice]]
        if voice.kind == "noise":
            allowed[cv.NOISE_BASE : cv.NOISE_BASE + cv.NUM_NOISE] = True
        else:
            low, high = (cv.pitch_token(p, self.tonic) for p in (voice.low, voice.high))
            allowed[low : high + 1] = True

    def _attr_mask(self, allowed: npt.NDArray[np.bool_]) -> None:
        kind = VOICES[cv.VOICE_ORDER[self.note_voice]].kind
        if not self.seen_volume and kind != "triangle":
            allowed[cv.VOL_BASE : cv.VOL_BASE + cv.NUM_VOLUMES] = True
        if not self.seen_timbre:
            allowed[cv.TIMBRE_BASE : cv.TIMBRE_BASE + cv.TIMBRE_LIMIT[kind]] = True
        room = self.total_steps - self.step
        for i, length in enumerate(cv.DURATIONS):
            allowed[cv.DUR_BASE + i] = length <= room


def check(tokens: npt.ArrayLike) -> None:
    """Raise EncodingError unless `tokens` is one complete grammatical sequence."""
    grammar = ChipVoiceGrammar()
    for token in np.asarray(tokens, dtype=np.int64):
        if grammar.ended:
            raise EncodingError(f"token {grammar.length} comes after END")
        grammar.advance(int(token))
    if not grammar.ended:
        raise EncodingError(f"the sequence stops after {grammar.length} tokens without END")
