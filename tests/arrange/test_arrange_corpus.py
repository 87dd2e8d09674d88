"""Real MIDI files arrange without error, and their arranged MIDI reads back unchanged."""

from __future__ import annotations

import pytest

from chipline.arrange import ArrangeConfig, arrange, from_song, to_song
from chipline.score import read_midi
from conftest import shared_data

FEW = [
    ("bach", "bach__bwv1.6__0.mid"),
    ("freedoom", "freedm__D_ADRIAN.mid"),
    ("simutrans", "03-Sunday-drivers.mid"),
]


def check(path_parts: tuple[str, ...]) -> None:
    song = read_midi(shared_data("midi", *path_parts))
    for config in (ArrangeConfig(), ArrangeConfig(chip="vrc6")):
        score = arrange(song, config)
        assert score.notes
        assert from_song(to_song(score)) == score


@pytest.mark.parametrize("parts", FEW)
def test_a_few_real_files(parts: tuple[str, str]) -> None:
    check(parts)


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["freedoom", "simutrans"])
def test_every_game_file(folder: str) -> None:
    root = shared_data("midi", folder)
    for path in sorted(root.glob("*.mid")):
        check((folder, path.name))
