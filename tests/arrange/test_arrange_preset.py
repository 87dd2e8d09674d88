"""Chip presets: the built-in files, a user's file laid over them, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from arrange_songs import song_of

from chipline.arrange import ArrangeConfig, arrange, load_preset
from chipline.chip import CHIP_VOICES
from chipline.errors import ConfigError
from chipline.score import Note


@pytest.mark.parametrize("chip", ["nes", "vrc6"])
def test_builtin_presets_cover_every_voice(chip: str) -> None:
    instruments = load_preset(chip).instruments(chip)  # type: ignore[arg-type]
    assert tuple(instruments) == CHIP_VOICES[chip]
    assert all(inst.envelope for inst in instruments.values())


def test_user_preset_overrides_only_the_keys_it_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[pulse1]\nduty = 0\nvolume = 7\n")
    builtin, mine = load_preset("nes").pulse1, load_preset("nes", path).pulse1
    assert (mine.duty, mine.volume) == (0, 7)
    assert mine.envelope == builtin.envelope
    score = arrange(song_of([Note(0, 4, 72, 127)]), ArrangeConfig(preset=path))
    assert score.instruments["Pulse 1"].duty == 0
    assert score.notes[0].volume == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pulse1]\nduty = 4\n", "duty 4 is out of range 0..3"),
        ("[pulse1]\nshape = 1\n", "unknown key 'shape'"),
        ("[organ]\nduty = 1\n", "unknown key 'organ'"),
        ("[noise]\nenvelope = [15, 16]\n", "envelope values must be in 0..15"),
        ("[pulse1\n", "not valid TOML"),
    ],
)
def test_bad_preset_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_preset("nes", path)


def test_missing_preset_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read preset"):
        load_preset("nes", tmp_path / "absent.toml")


def test_config_rejects_a_range_narrower_than_an_octave() -> None:
    with pytest.raises(ConfigError, match="at least an octave"):
        ArrangeConfig(melody_range=(60, 70))


def test_a_range_outside_the_voice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Pulse 1 plays MIDI 33..108"):
        arrange(song_of([Note(0, 4, 60)]), ArrangeConfig(melody_range=(100, 127)))
