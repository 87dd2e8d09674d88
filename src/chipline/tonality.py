"""Songs and keys: a song's key (Krumhansl–Schmuckler on note durations) and moving it to a key.

Key names and the profile correlation itself live in `chipline.keys`.
"""

from __future__ import annotations

from dataclasses import replace

from chipline.keys import Key, estimate_key
from chipline.score import Song


def song_key(song: Song) -> Key:
    """The key of `song`'s pitched notes, each weighted by its duration (C major if none)."""
    pitched = [n for n in song.notes if not n.is_drum]
    return estimate_key([n.pitch for n in pitched], [n.end_tick - n.start_tick for n in pitched])


def relative(key: Key) -> Key:
    """The relative key: same scale, the other mode (C major <-> A minor)."""
    return Key((key.tonic + (3 if key.minor else 9)) % 12, not key.minor)


def shift_to(estimated: Key, target: Key) -> int:
    """Semitones (-6..5) that move `estimated` onto `target`; across modes, via the relative key
    (music in C major asked for in A minor keeps its notes: A minor is C major's scale)."""
    source = estimated if estimated.minor == target.minor else relative(estimated)
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
