"""`chipline render`: MIDI files -> loopable, loudness-matched OGG/WAV/MP3 + manifest + gallery."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chipline.config import load_toml, override
from chipline.render import RenderConfig, TrackResult, render_files


def _formats(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(f.strip().lower() for f in value.split(",") if f.strip())


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (created if needed).",
)
@click.option("--chip", type=click.Choice(["nes", "vrc6"]), help="Voices: nes (2A03) or vrc6.")
@click.option("--region", type=click.Choice(["ntsc", "pal"]), help="Chip clock (default ntsc).")
@click.option(
    "--filter",
    "filter_",
    type=click.Choice(["clean", "famicom", "nes"]),
    help="Output filter profile (default clean).",
)
@click.option("--formats", callback=_formats, help="Comma list of ogg,wav,mp3 (default all).")
@click.option(
    "--loudness", help="LUFS target or preset: default (-18), console (-23), mobile, web (-16)."
)
@click.option("--stems/--no-stems", default=None, help="Also write one WAV per voice.")
@click.option(
    "--loop/--no-loop", default=None, help="Loop the piece (default) or keep a natural tail."
)
@click.option("--overwrite", is_flag=True, default=None, help="Replace existing outputs.")
@click.option("--backend", help="Render back end (default chip).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with a [render] table.",
)
def render(files: tuple[Path, ...], out_dir: Path, chip: str | None, region: str | None,
           filter_: str | None, formats: tuple[str, ...] | None, loudness: str | None,
           stems: bool | None, loop: bool | None, overwrite: bool | None, backend: str | None,
           config_file: Path | None) -> None:  # fmt: skip
    """Render MIDI FILES into game-ready audio in --out.

    One line per file; a bad file prints `Error: FILE: reason` and the others still render.
    Exit code 1 if any failed.
    """
    base = load_toml(config_file, RenderConfig, "render") if config_file else RenderConfig()
    config = override(base, chip=chip, region=region, filter=filter_, formats=formats,
                      loudness=loudness, stems=stems, loop=loop, overwrite=overwrite,
                      backend=backend)  # fmt: skip
    if len(files) > 1:
        with click.progressbar(range(len(files)), label="rendering", file=sys.stderr) as bar:

            def advance(_: object) -> None:
                bar.update(1)

            results = render_files(list(files), out_dir, config, on_file=advance)
    else:
        results = render_files(list(files), out_dir, config)
    failed = 0
    for path, result in zip(files, results, strict=True):
        if isinstance(result, TrackResult):
            click.echo(_line(path, result))
        else:
            failed += 1
            click.echo(f"Error: {result}", err=True)
    if failed:
        raise SystemExit(1)


def _line(path: Path, result: TrackResult) -> str:
    r = result.record
    loop = r["loop"]
    loud = r["loudness"]
    looped = (
        f"loop {loop['start_sec']:.2f}+{loop['length_sec']:.2f} s" if loop["enabled"] else "no loop"
    )
    lufs = loud["integrated_lufs"]
    level = f"{lufs:.1f} LUFS, {loud['true_peak_dbtp']:.1f} dBTP" if lufs is not None else "silent"
    formats = ",".join(f["format"] for f in r["files"] if f["role"] == "audio")
    return f"{path} -> {result.name}.{{{formats}}}: {r['duration_sec']:.1f} s, {looped}, {level}"
