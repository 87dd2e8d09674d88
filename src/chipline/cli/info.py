"""`chipline info`: one line per MIDI file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from chipline.errors import MidiFileError
from chipline.score import describe, read_midi


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for machines.")
def info(files: tuple[Path, ...], as_json: bool) -> None:
    """Summarise MIDI FILES: format, tracks, notes, length, tempo, range, polyphony.

    A bad file prints `Error: FILE: reason` and the next file is read; exit code 1 if any failed.
    """
    failed = 0
    for path in files:
        try:
            summary = describe(read_midi(path))
        except MidiFileError as e:
            failed += 1
            if as_json:
                click.echo(json.dumps({"file": str(path), "error": str(e)}))
            else:
                click.echo(f"Error: {e}", err=True)
            continue
        if as_json:
            click.echo(json.dumps({"file": str(path), **summary}))
        else:
            click.echo(_line(path, summary))
    if failed:
        raise SystemExit(1)


def _line(path: Path, s: dict[str, object]) -> str:
    pitch_range = s["pitch_range"]
    low, high = pitch_range if isinstance(pitch_range, list) else ("-", "-")
    return (
        f"{path}: type {s['format']}, {s['tracks']} tracks, {s['notes']} notes "
        f"({s['drum_notes']} drum), {s['duration_sec']:.1f} s / {s['bars']:.1f} bars, "
        f"{s['qpm']:.1f} qpm, {s['time_signature']}, pitch {low}-{high}, "
        f"polyphony {s['max_polyphony']}"
    )
