"""`chipline arrange`: MIDI files → arranged chip MIDI files (one named track per voice)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from chipline.errors import ChiplineError


@click.command("arrange")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the arranged files, named <input name>.<chip>.mid.",
)
@click.option("--chip", type=click.Choice(["nes", "vrc6"]), default="nes", show_default=True)
@click.option(
    "--arpeggio/--no-arpeggio",
    default=True,
    show_default=True,
    help="Arpeggiate extra chord tones on the last inner voice, or keep the most salient one.",
)
@click.option(
    "--preset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML preset laid over the chip's built-in one (see templates/chip/nes.toml).",
)
@click.option(
    "--melody-track",
    type=click.IntRange(min=0),
    help="The MIDI track holding the tune (the file's first track is 0), if not the top line.",
)
@click.option("--overwrite", is_flag=True, help="Replace arranged files that already exist.")
def arrange(
    files: tuple[Path, ...],
    out_dir: Path,
    chip: str,
    arpeggio: bool,
    preset: Path | None,
    melody_track: int | None,
    overwrite: bool,
) -> None:
    """Arrange MIDI FILES for the chip and write the arranged MIDI (for REAPER or any synth).

    One line per file; a bad file prints `Error: FILE: reason` and the next one is arranged;
    exit code 1 if any failed.
    """
    from chipline.arrange import ArrangeConfig, write_arranged_midi
    from chipline.arrange import arrange as arrange_song
    from chipline.score import read_midi

    config = ArrangeConfig(
        chip=chip,  # type: ignore[arg-type]
        arpeggio=arpeggio,
        preset=preset,
        melody_track=melody_track,
    )
    failed = 0
    for path in files:
        target = out_dir / f"{path.stem}.{chip}.mid"
        try:
            if target.exists() and not overwrite:
                raise ChiplineError(f"{target} exists; pass --overwrite to replace it")
            if target.resolve() == path.resolve():
                raise ChiplineError(f"{path}: the arranged file would replace the input")
            score = arrange_song(read_midi(path), config)
            write_arranged_midi(score, target)
        except ChiplineError as e:
            failed += 1
            message = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
            click.echo(f"Error: {message}", err=True)
            continue
        counts = Counter(n.voice for n in score.notes)
        voices = ", ".join(f"{v} {counts[v]}" for v in score.voices)
        click.echo(f"{path} -> {target}: {voices}")
    if failed:
        raise SystemExit(1)
