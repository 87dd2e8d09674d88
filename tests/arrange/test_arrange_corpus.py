"""Real MIDI files arrange without error, and their arranged MIDI reads back unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipline.arrange import ArrangeConfig, arrange, from_song, to_song
from chipline.errors import EncodingError, MidiFileError
from chipline.score import read_midi
from conftest import shared_data

FEW = [
    ("bach", "bach__bwv1.6__0.mid"),
    ("freedoom", "freedm__D_ADRIAN.mid"),
    ("simutrans", "03-Sunday-drivers.mid"),
]


def check(path: Path) -> None:
    song = read_midi(path)
    for config in (ArrangeConfig(), ArrangeConfig(chip="vrc6")):
        score = arrange(song, config)
        assert score.notes
        assert from_song(to_song(score)) == score


@pytest.mark.parametrize("parts", FEW)
def test_a_few_real_files(parts: tuple[str, str]) -> None:
    check(shared_data("midi", *parts))


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["freedoom", "simutrans"])
def test_every_game_file(folder: str) -> None:
    root = shared_data("midi", folder)
    for path in sorted(root.glob("*.mid")):
        check(path)


@pytest.mark.slow
def test_odd_files_arrange_or_say_they_have_no_notes() -> None:
    """The edge-case suite: every readable file arranges and reads back, or has no notes."""
    root = shared_data("midi-edge-cases", "midi")
    arranged = 0
    for path in sorted(root.glob("*.mid")):
        try:
            song = read_midi(path)
        except MidiFileError:
            continue
        if not song.notes:
            with pytest.raises(EncodingError, match="has no notes"):
                arrange(song)
            continue
        check(path)
        arranged += 1
    assert arranged >= 50


def outer_parts(path: Path) -> tuple[set[tuple[int, int, int]], set[tuple[int, int, int]]]:
    """(start, end, pitch class) of the chorale's soprano and bass parts (one track each)."""
    song = read_midi(path)
    tracks: dict[int, list[tuple[int, int, int]]] = {}
    for n in song.notes:
        tracks.setdefault(n.track, []).append((n.start_tick, n.end_tick, n.pitch))
    by_mean = sorted(tracks.values(), key=lambda ns: sum(p for *_, p in ns) / len(ns))
    return _classes(by_mean[-1]), _classes(by_mean[0])


def _classes(notes: list[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
    return {(s, e, p % 12) for s, e, p in notes}


@pytest.mark.slow
def test_chorales_keep_soprano_on_pulse1_and_bass_on_the_triangle() -> None:
    """Bach chorales have their tune on top and a real bass: the skyline must find both."""
    paths = sorted(shared_data("midi", "bach").glob("*.mid"))[:30]
    found = {"Pulse 1": 0, "Triangle": 0}
    total = {"Pulse 1": 0, "Triangle": 0}
    for path in paths:
        soprano, bass = outer_parts(path)
        score = arrange(read_midi(path))
        for voice, part in (("Pulse 1", soprano), ("Triangle", bass)):
            played = _classes(
                [(n.start_tick, n.end_tick, n.pitches[0]) for n in score.notes if n.voice == voice]
            )
            found[voice] += len(part & played)
            total[voice] += len(part)
    assert found["Pulse 1"] >= 0.9 * total["Pulse 1"]
    assert found["Triangle"] >= 0.9 * total["Triangle"]
