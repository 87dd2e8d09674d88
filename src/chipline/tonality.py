"""Keys: parse names like "A minor" or "F#m", estimate a song's key, transpose a song to a key.

The estimate is Krumhansl–Schmuckler's: the duration-weighted pitch-class histogram of the
pitched notes is correlated with the Krumhansl–Kessler major and minor profiles in all 12
rotations, and the best of the 24 wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from chipline.errors import ConfigError
from chipline.score import Song

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_KEY_RE = re.compile(r"^\s*([A-Ga-g])\s*(#|b|♯|♭)?\s*(m|min|minor|maj|major)?\s*$")


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class 0..11 (C = 0) and mode."""

    tonic: int
    minor: bool = False

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {'minor' if self.minor else 'major'}"

    def relative(self) -> Key:
        """The relative key: same scale, the other mode (C major <-> A minor)."""
        return Key((self.tonic + (3 if self.minor else 9)) % 12, not self.minor)


def parse_key(text: str) -> Key:
    """ "C", "c minor", "F#m", "Bb major", "eb min" -> Key.

    Raises:
        ConfigError: not a key name.
    """
    match = _KEY_RE.match(text)
    if match is None:
        raise ConfigError(f"--key {text!r}: not a key; use e.g. C, Am, F#m, Bb major, E minor")
    letter, accidental, mode = match.groups()
    tonic = _LETTERS[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental or "", 0)
    return Key(tonic % 12, (mode or "").lower() in ("m", "min", "minor"))


def pitch_class_weights(song: Song) -> np.ndarray:
    """float64 (12,): total duration in ticks of the pitched notes of each pitch class."""
    weights = np.zeros(12)
    for note in song.notes:
        if not note.is_drum:
            weights[note.pitch % 12] += note.end_tick - note.start_tick
    return weights


def estimate_key(song: Song) -> Key:
    """The Krumhansl–Schmuckler key of `song`'s pitched notes (C major for a song without any)."""
    weights = pitch_class_weights(song)
    if not weights.any():
        return Key(0)
    best, best_r = Key(0), -np.inf
    for minor, profile in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(weights, np.roll(profile, tonic))[0, 1]
            if np.isfinite(r) and r > best_r:
                best, best_r = Key(tonic, minor), r
    return best


def shift_to(estimated: Key, target: Key) -> int:
    """Semitones (-6..5) that move `estimated` onto `target`; across modes, via the relative key
    (music in C major asked for in A minor keeps its notes: A minor is C major's scale)."""
    source = estimated if estimated.minor == target.minor else estimated.relative()
    return (target.tonic - source.tonic + 6) % 12 - 6


def transpose(song: Song, semitones: int, low: int = 24, high: int = 108) -> Song:
    """A copy with every pitched note moved by `semitones`; notes leaving `low..high` move by
    octaves back inside. Drums are unchanged."""
    notes = []
    for note in song.notes:
        if note.is_drum or semitones == 0:
            notes.append(note)
            continue
        pitch = note.pitch + semitones
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        notes.append(replace(note, pitch=pitch))
    return replace(song, notes=tuple(sorted(notes)))
