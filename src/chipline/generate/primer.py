"""Primers, the notes a generated piece starts from: Magenta's melody lists, chords, MIDI files.

A primer is a list of notes on the 16th-step grid, as `chipline generate` receives it through
`--primer-melody`, `--primer-pitches` or `--primer-midi`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline.encoding import polyphony
from chipline.errors import ConfigError
from chipline.score import quantize, read_midi

MELODY_NOTE_OFF = -1  # Magenta's Melody event values
MELODY_NO_EVENT = -2  # hold: the note (or the silence) goes on


@dataclass(frozen=True)
class Primer:
    """Notes `(start_step, end_step, pitch)`; the primer ends with its last note (`num_steps`)."""

    notes: tuple[tuple[int, int, int], ...] = ()
    qpm: float | None = None  # a MIDI primer's own tempo

    @property
    def num_steps(self) -> int:
        return max((end for _, end, _ in self.notes), default=0)

    def tokens(self) -> npt.NDArray[np.uint16]:
        """START and the primer's steps, without END: what the model is conditioned on."""
        rows = np.array(self.notes, dtype=np.int64).reshape(-1, 3)
        return polyphony.encode_notes(rows[:, 0], rows[:, 1], rows[:, 2], self.num_steps)[:-1]

    def step_events(self) -> list[list[int]]:
        """The note tokens of each primer step (what injection plays into each step)."""
        steps: list[list[int]] = [[]]
        for token in self.tokens()[1:].tolist():
            if token == polyphony.STEP_END:
                steps.append([])
            else:
                steps[-1].append(token)
        return steps[:-1]


def _literal_list(text: str, flag: str) -> list[int]:
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as e:
        raise ConfigError(f"{flag}: {text!r} is not a list like [60, -2, 62]") from e
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f"{flag}: {text!r} is not a list of whole numbers like [60, -2, 62]")
    return list(value)


def from_melody(text: str) -> Primer:
    """Magenta's `--primer_melody="[60, -2, 62, -1]"`: one value per 16th step.

    A pitch 0..127 starts a note (ending the one before), -1 stops it, -2 holds; the last note
    lasts to the end of the list.
    """
    values = _literal_list(text, "--primer-melody")
    notes: list[tuple[int, int, int]] = []
    current: tuple[int, int] | None = None  # (start_step, pitch)
    for step, value in enumerate(values):
        if not MELODY_NO_EVENT <= value <= 127:
            raise ConfigError(
                f"--primer-melody: {value} is outside 0..127 (-1 stops the note, -2 holds it)"
            )
        if value == MELODY_NO_EVENT:
            continue
        if current is not None:
            notes.append((current[0], step, current[1]))
            current = None
        if value >= 0:
            current = (step, value)
    if current is not None:
        notes.append((current[0], len(values), current[1]))
    return Primer(tuple(notes))


def from_pitches(text: str) -> Primer:
    """Magenta's `--primer_pitches="[67,64,60]"`: a chord one quarter note long."""
    pitches = _literal_list(text, "--primer-pitches")
    for pitch in pitches:
        if not 0 <= pitch <= 127:
            raise ConfigError(f"--primer-pitches: {pitch} is outside the MIDI pitches 0..127")
    return Primer(tuple((0, polyphony.STEPS_PER_QUARTER, p) for p in pitches))


def from_midi(path: Path) -> Primer:
    """The pitched notes of a MIDI file, quantised to 16th steps, with the file's first tempo."""
    song = quantize(read_midi(path), polyphony.STEPS_PER_QUARTER)
    notes = tuple((n.start_tick, n.end_tick, n.pitch) for n in song.notes if not n.is_drum)
    return Primer(notes, qpm=song.qpm)
