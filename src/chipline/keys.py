"""Musical keys: names, and a key estimate from pitches (Krumhansl-Kessler profiles)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from chipline.errors import ConfigError

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"DB": 1, "D#": 3, "GB": 6, "G#": 8, "A#": 10, "CB": 11, "E#": 5, "FB": 4, "B#": 0}
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0..11, C = 0
    minor: bool = False

    def __str__(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {'minor' if self.minor else 'major'}"

    @property
    def index(self) -> int:
        """0..23: majors C..B, then minors C..B."""
        return self.tonic + 12 * self.minor


def parse_key(text: str) -> Key:
    """Parse "A minor", "F# major", "Bbm", "C". Raises ConfigError naming the accepted forms."""
    words = text.replace("-", " ").split()
    if not words or len(words) > 2:
        raise ConfigError(
            f"key {text!r}: expected a tonic and a mode, e.g. 'A minor' or 'Eb major'"
        )
    tonic_text, mode = words[0], (words[1].lower() if len(words) == 2 else "major")
    if len(words) == 1 and tonic_text.endswith("m") and len(tonic_text) > 1:
        tonic_text, mode = tonic_text[:-1], "minor"
    upper = tonic_text[:1].upper() + tonic_text[1:].lower().replace("♯", "#").replace("♭", "b")
    names = {name.upper(): i for i, name in enumerate(PITCH_CLASSES)} | _ALIASES
    tonic = names.get(upper.upper())
    if tonic is None or mode not in ("major", "minor", "maj", "min"):
        raise ConfigError(
            f"key {text!r}: expected a tonic and a mode, e.g. 'A minor' or 'Eb major'"
        )
    return Key(tonic, mode.startswith("min"))


def estimate_key(pitches: Iterable[int], weights: Iterable[float] | None = None) -> Key:
    """The key whose profile best correlates with the pitch-class histogram.

    `weights` (e.g. note durations) default to 1 per note. An empty input gives C major.
    """
    pitches = np.asarray(list(pitches), dtype=np.int64)
    if pitches.size == 0:
        return Key(0)
    w = np.ones(pitches.size) if weights is None else np.asarray(list(weights), dtype=float)
    histogram = np.bincount(pitches % 12, weights=w, minlength=12)
    best, best_score = Key(0), -np.inf
    for minor, profile in ((False, _MAJOR), (True, _MINOR)):
        for tonic in range(12):
            score = np.corrcoef(histogram, np.roll(profile, tonic))[0, 1]
            if np.isfinite(score) and score > best_score:
                best, best_score = Key(tonic, minor), score
    return best
