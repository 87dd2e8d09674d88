"""Octave folding: whole phrases move where they fit, so melodies keep their contour."""

from __future__ import annotations

from arrange_songs import song_of

from chipline.arrange import ArrangeConfig, arrange, fold
from chipline.score import Note


def line(start: int, *pitches: int, length: int = 2) -> list[Note]:
    return [Note(start + k * length, start + (k + 1) * length, p) for k, p in enumerate(pitches)]


def melody(config: ArrangeConfig, notes: list[Note]) -> list[int]:
    score = arrange(song_of(notes), config)
    return [n.pitches[0] for n in score.notes if n.voice == "Pulse 1"]


def test_fold_moves_by_octaves_into_range() -> None:
    assert fold(98, 45, 96) == 86
    assert fold(30, 45, 96) == 54
    assert fold(60, 45, 96) == 60


def test_a_phrase_reaching_above_the_range_moves_down_as_a_whole() -> None:
    tune = line(0, 84, 88, 91, 96, 98, 96, 91)
    assert melody(ArrangeConfig(), tune) == [72, 76, 79, 84, 86, 84, 79]
    assert melody(ArrangeConfig(phrase_beats=0), tune) == [84, 88, 91, 96, 86, 96, 91]


def test_a_rest_of_a_beat_ends_the_phrase() -> None:
    first = line(0, 79, 84, 88)  # in range: stays where it is
    second = line(10, 91, 98, 96)  # after a rest of 4 ticks (one beat): moves down
    assert melody(ArrangeConfig(), first + second) == [79, 84, 88, 79, 86, 84]


def test_a_phrase_wider_than_the_range_folds_note_by_note() -> None:
    tune = line(0, 40, 60, 80, 100)  # spans 60 keys, the range 51
    assert melody(ArrangeConfig(), tune) == [52, 60, 80, 88]


def test_the_bass_moves_up_as_a_phrase() -> None:
    notes = line(0, 31, 26, 33, 38) + [Note(0, 8, 72)]
    score = arrange(song_of(notes))
    assert [n.pitches[0] for n in score.notes if n.voice == "Triangle"] == [43, 38, 45, 50]
