"""A song's key (duration-weighted Krumhansl–Schmuckler), relative keys, transposition."""

from __future__ import annotations

import pytest

from chipline.keys import Key
from chipline.score import Note, Song
from chipline.tonality import relative, shift_to, song_key, transpose

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11, 12)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10, 12)


def _scale_song(tonic: int, steps, tonic_weight: int = 4) -> Song:
    """A scale from `tonic`, with the tonic and fifth held longer (as in real tunes)."""
    notes, tick = [], 0
    for step in steps:
        length = 480 * (tonic_weight if step % 12 in (0, 7) else 1)
        notes.append(Note(tick, tick + length, tonic + step))
        tick += length
    return Song(ticks_per_beat=480, notes=tuple(notes), end_tick=tick)


@pytest.mark.parametrize("tonic", [60, 62, 66, 69])
def test_estimate_scales(tonic):
    assert song_key(_scale_song(tonic, MAJOR_STEPS)) == Key(tonic % 12)
    assert song_key(_scale_song(tonic, MINOR_STEPS)) == Key(tonic % 12, True)


def test_relative_keys():
    assert relative(Key(0)) == Key(9, True)
    assert relative(Key(9, True)) == Key(0)
    assert relative(Key(4, True)) == Key(7)


def test_shift_moves_onto_the_key_or_its_relative():
    assert shift_to(Key(0), Key(7)) == -5
    assert shift_to(Key(9, True), Key(4, True)) == -5
    assert shift_to(Key(0), Key(9, True)) == 0  # C major is A minor's scale
    assert shift_to(Key(0), Key(2, True)) == 5  # C major -> F major, D minor's scale


def test_transpose_keeps_drums_and_range():
    song = Song(ticks_per_beat=480, notes=(Note(0, 480, 100), Note(0, 480, 36, channel=9)))
    moved = transpose(song, 11)
    pitched = [n.pitch for n in moved.notes if not n.is_drum]
    assert pitched == [99]  # 111 would leave the range: an octave down
    assert [n.pitch for n in moved.notes if n.is_drum] == [36]
    assert song.notes[0].pitch == 100  # the input is unchanged
    assert song_key(transpose(_scale_song(60, MAJOR_STEPS), 7)) == Key(7)
