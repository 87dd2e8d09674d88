"""`chipline make --out DIR`: a game-ready folder of new chiptune tracks in one command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from chipline.cli.render import _formats
from chipline.config import load_toml, override
from chipline.errors import ChiplineError
from chipline.render import RenderConfig, TrackResult


@click.command()
@click.option("--out", "out_dir", required=True,
              type=click.Path(path_type=Path, file_okay=False), help="Output folder.")  # fmt: skip
@click.option("--tracks", "num_tracks", type=int, help="How many tracks [4].")
@click.option("--bars", "num_bars", type=int, help="Bars of 4/4 per track (the loop) [16].")
@click.option("--qpm", type=float, help="Tempo, quarter notes per minute [120].")
@click.option("--key", help="Key of every track, e.g. C, Am, F#m, Bb major [one per track].")
@click.option("--seed", type=int, help="Same seed and options, same folder [0].")
@click.option("--temperature", type=float, help="Sampling temperature; lower is safer [0.9].")
@click.option("--pitch-temperature", type=float,
              help="Temperature of the notes' pitches alone [--temperature].")  # fmt: skip
@click.option("--workers", "num_workers", type=int, help="Render processes; 0: one per CPU [1].")
@click.option("--drums/--no-drums", default=None, help="Add a drum groove on the noise channel.")
@click.option("--model", help="Model dir or run dir, or a bundled model: default (polyphony) "
              "or chipvoice (written in the chip's voices) [default].")  # fmt: skip
@click.option("--chip", type=click.Choice(["nes", "vrc6"]), help="Voices: nes (2A03) or vrc6.")
@click.option(
    "--loop/--no-loop", "loop_audio", default=None, help="Loopable tracks with loop points [loop]."
)
@click.option("--intro-bars", type=int, help="Chip-voice model: bars played once before the loop.")
@click.option("--stinger", is_flag=True, default=None,
              help="Chip-voice model: 1-4 bar one-shots ending on the tonic.")  # fmt: skip
@click.option("--density", type=click.IntRange(0, 3), help="Chip-voice model: 0 sparse..3 busy.")
@click.option("--voices", type=int, help="Chip-voice model: how many chip voices play, noise "
              "included (nes 1-4, vrc6 1-7) [the model's choice].")  # fmt: skip
@click.option("--variations", type=int, help="Chip-voice model: tracks per shared theme [1].")
@click.option("--formats", callback=_formats, help="Comma list of ogg,wav,mp3 [ogg].")
@click.option("--loudness", help="LUFS target or preset: default (-18), console, mobile, web.")
@click.option("--backend", help="Render back end [chip].")
@click.option("--overwrite", is_flag=True, default=None, help="Replace an earlier make folder.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="TOML file with [make] and [render] tables.")  # fmt: skip
def make(out_dir: Path, model: str | None, config_file: Path | None, chip: str | None,
         loop_audio: bool | None, formats: tuple[str, ...] | None, loudness: str | None,
         backend: str | None, overwrite: bool | None, **flags: Any) -> None:  # fmt: skip
    """Write new tracks with the bundled model and render them into a game-ready folder.

    The folder holds each track as audio with loop points, its arranged MIDI, the generated
    MIDI under source/, manifest.json and an index.html gallery.
    """
    from chipline.make import MakeConfig
    from chipline.make import make as run_make

    base = load_toml(config_file, MakeConfig, "make") if config_file else MakeConfig()
    cfg = override(base, model=model, **flags)
    from chipline.make import MAKE_RENDER

    render_base = MAKE_RENDER
    if config_file:
        render_base = load_toml(config_file, RenderConfig, "render")
        if "formats" not in _table(config_file, "render"):
            render_base = override(render_base, formats=MAKE_RENDER.formats)
    render = override(render_base, chip=chip, formats=formats, loudness=loudness,
                      backend=backend, overwrite=overwrite, loop=loop_audio)  # fmt: skip
    with click.progressbar(length=cfg.num_tracks, label="rendering", file=sys.stderr) as bar:

        def advance(_: TrackResult | ChiplineError) -> None:
            bar.update(1)

        results = run_make(out_dir, cfg, render, on_track=advance)
    for result in results:
        r = result.record
        loop = r["loop"]
        audio = ",".join(f["format"] for f in r["files"] if f["role"] == "audio")
        click.echo(
            f"{result.name}: {r['duration_sec']:.1f} s, loop {loop['start_sec']:.2f}+"
            f"{loop['length_sec']:.2f} s, {r['tempo_qpm']:g} qpm -> {result.name}.{{{audio}}}"
        )
    click.echo(f"{len(results)} tracks in {out_dir}; open {out_dir / 'index.html'} to listen")


def _table(path: Path, name: str) -> dict[str, Any]:
    """The `[name]` table of a TOML file that `load_toml` has already read without error."""
    import tomllib

    table = tomllib.loads(path.read_text("utf-8")).get(name, {})
    return table if isinstance(table, dict) else {}
