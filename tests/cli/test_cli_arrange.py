"""`chipline arrange`: arranged files written, one line per file, bad files reported."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from chipline.arrange import from_song
from chipline.cli import cli
from chipline.score import Note, Song, read_midi, write_midi


def make_midi(path: Path, notes: tuple[Note, ...]) -> Path:
    return write_midi(Song(ticks_per_beat=4, notes=notes, end_tick=16), path)


def test_arrange_writes_named_voice_tracks(runner: CliRunner, tmp_path: Path) -> None:
    src = make_midi(tmp_path / "tune.mid", (Note(0, 8, 48), Note(0, 8, 64), Note(0, 8, 72)))
    result = runner.invoke(
        cli, ["arrange", str(src), "--out", str(tmp_path / "out"), "--chip", "vrc6"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "tune.vrc6.mid"
    assert f"{src} -> {out}: Pulse 1 1, Pulse 2 1, Triangle 1" in result.output
    score = from_song(read_midi(out))
    assert score.chip == "vrc6"
    assert sorted(n.pitches[0] for n in score.notes) == [48, 64, 72]


def test_bad_file_is_reported_and_the_rest_arranged(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    empty = make_midi(tmp_path / "empty.mid", ())
    good = make_midi(tmp_path / "good.mid", (Note(0, 4, 60),))
    out = tmp_path / "out"
    result = runner.invoke(cli, ["arrange", str(bad), str(empty), str(good), "-o", str(out)])
    assert result.exit_code == 1
    assert f"Error: {bad}: not a MIDI file" in result.output
    assert f"Error: {empty}: the song has no notes" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["good.nes.mid"]


def test_existing_output_needs_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    src = make_midi(tmp_path / "a.mid", (Note(0, 4, 60),))
    args = ["arrange", str(src), "-o", str(tmp_path)]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "exists; pass --overwrite" in again.output
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0


def test_melody_track_option(runner: CliRunner, tmp_path: Path) -> None:
    notes = (Note(0, 8, 84, track=0), Note(0, 8, 67, track=1))
    src = make_midi(tmp_path / "pad.mid", notes)
    out = tmp_path / "out"
    result = runner.invoke(cli, ["arrange", str(src), "-o", str(out), "--melody-track", "1"])
    assert result.exit_code == 0, result.output
    score = from_song(read_midi(out / "pad.nes.mid"))
    assert [n.pitches for n in score.notes if n.voice == "Pulse 1"] == [(67,)]
