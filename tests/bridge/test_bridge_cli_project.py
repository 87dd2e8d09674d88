"""`chipline reaper project`: arranged MIDI in, a REAPER project out (nothing rendered)."""

from __future__ import annotations

import pytest
import rpp
from reaper_fixtures import (
    USER_TEMPLATE,
    item_notes,
    nes_song,
    song_notes_by_voice,
    track_by_name,
    write,
)

from chipline.cli import cli
from chipline.score import write_midi
from conftest import shared_data


def test_project_from_arranged_midi(runner, tmp_path):
    song = nes_song()
    midi = write_midi(song, tmp_path / "level 1.mid")
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    out = tmp_path / "jobs" / "level1.rpp"
    result = runner.invoke(
        cli,
        [
            "reaper",
            "project",
            str(midi),
            "-t",
            str(template),
            "-o",
            str(out),
            "--map",
            "Pulse 1=Lead",
            "--format",
            "mp3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    assert "level1.mp3" in result.output
    root = rpp.loads(out.read_text())
    assert root.find("RENDER_FILE")[1] == str(out.parent.resolve())
    assert root.find("RENDER_PATTERN")[1] == "level1"
    expected = song_notes_by_voice(song)
    assert item_notes(track_by_name(root, "Lead"))[1] == expected["Pulse 1"]
    assert item_notes(track_by_name(root, "Noise"))[1] == expected["Noise"]


def test_template_without_voice_tracks_is_one_clear_error(runner, tmp_path):
    midi = write_midi(nes_song(), tmp_path / "a.mid")
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    result = runner.invoke(
        cli, ["reaper", "project", str(midi), "-t", str(template), "-o", str(tmp_path / "a.rpp")]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "Expected tracks named" in result.output
    assert not (tmp_path / "a.rpp").exists()


def test_bad_map_option(runner, tmp_path):
    midi = write_midi(nes_song(), tmp_path / "a.mid")
    result = runner.invoke(
        cli, ["reaper", "project", str(midi), "-o", str(tmp_path / "a.rpp"), "--map", "Lead"]
    )
    assert result.exit_code == 1
    assert "VOICE=TRACK" in result.output


def test_default_template(runner, tmp_path):
    midi = write_midi(nes_song(), tmp_path / "a.mid")
    result = runner.invoke(cli, ["reaper", "project", str(midi), "-o", str(tmp_path / "a.rpp")])
    assert result.exit_code == 0, result.output
    root = rpp.loads((tmp_path / "a.rpp").read_text())
    assert (
        item_notes(track_by_name(root, "Pulse 1"))[1] == song_notes_by_voice(nes_song())["Pulse 1"]
    )


def test_unarranged_midi_is_arranged_first(runner, tmp_path):
    from chipline.arrange import ArrangeConfig, arrange, to_song
    from chipline.score import Note, Song, read_midi

    chords = [
        Note(t * 480, t * 480 + 480, p, 90, 0, 0, 0) for t in range(8) for p in (48, 64, 67, 72)
    ]
    song = Song(ticks_per_beat=480, notes=tuple(sorted(chords)), end_tick=8 * 480)
    midi = write_midi(song, tmp_path / "chords.mid")
    out = tmp_path / "chords.rpp"
    result = runner.invoke(cli, ["reaper", "project", str(midi), "-o", str(out)])
    assert result.exit_code == 0, result.output
    arranged = to_song(arrange(read_midi(midi), ArrangeConfig(chip="nes")))
    root = rpp.loads(out.read_text())
    expected = song_notes_by_voice(arranged)
    assert expected  # the arranger put notes on voices
    for voice, notes in expected.items():
        assert item_notes(track_by_name(root, voice))[1] == notes, voice


@pytest.mark.slow
def test_real_game_midi_round_trips_through_the_project(runner, tmp_path):
    """A real game MIDI (Simutrans), arranged, written as a project and parsed back by `rpp`."""
    from chipline.arrange import ArrangeConfig, arrange, to_song
    from chipline.score import read_midi

    midi = shared_data("midi", "simutrans", "12-Steamin-across-the-prairies.mid")
    out = tmp_path / "steamin.rpp"
    result = runner.invoke(cli, ["reaper", "project", str(midi), "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = rpp.loads(out.read_text())
    arranged = to_song(arrange(read_midi(midi), ArrangeConfig(chip="nes")))
    for voice, notes in song_notes_by_voice(arranged).items():
        assert item_notes(track_by_name(root, voice))[1] == notes, voice
