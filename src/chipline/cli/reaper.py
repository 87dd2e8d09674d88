"""`chipline reaper ...`: write a job's REAPER project, check a REAPER setup, install actions."""

from __future__ import annotations

from pathlib import Path

import click

from chipline.bridge.project import (
    ProjectConfig,
    arranged_song,
    default_template,
    write_project,
)
from chipline.errors import BridgeError, ChiplineError, ConfigError
from chipline.score import read_midi

_IN_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def reaper() -> None:
    """Render through REAPER: build projects, check the setup, install REAPER actions."""


def _parse_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        voice, sep, track = pair.partition("=")
        if not sep or not voice.strip() or not track.strip():
            raise ConfigError(f"--map {pair!r}: expected VOICE=TRACK, e.g. 'Pulse 1=Lead'")
        mapping[voice.strip()] = track.strip()
    return mapping


@reaper.command()
@click.argument("midi", type=_IN_FILE)
@click.option("-t", "--template", type=_IN_FILE, help="REAPER template (.rpp); default: ours.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--render-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder REAPER renders into (default: next to the project).",
)
@click.option(
    "--format", "render_format", type=click.Choice(["wav", "mp3"]), default="mp3", show_default=True
)
@click.option("--sample-rate", type=click.IntRange(8000, 384000), default=48000, show_default=True)
@click.option("--tail-sec", type=click.FloatRange(0, 60), default=1.0, show_default=True)
@click.option(
    "--chip",
    type=click.Choice(["nes", "vrc6"]),
    default="nes",
    show_default=True,
    help="Chip to arrange for when the MIDI is not arranged yet.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="VOICE=TRACK",
    help="Play a voice on a template track of another name (repeatable).",
)
def project(
    midi: Path,
    template: Path | None,
    output: Path,
    render_dir: Path | None,
    render_format: str,
    sample_rate: int,
    tail_sec: float,
    chip: str,
    mapping: tuple[str, ...],
) -> None:
    """Write the REAPER project for MIDI (arranged per voice) without rendering it."""
    cfg = ProjectConfig(
        output_dir=(render_dir or output.parent).resolve(),
        output_name=output.stem,
        render_format=render_format,  # type: ignore[arg-type]
        sample_rate=sample_rate,
        tail_sec=tail_sec,
        track_names=_parse_map(mapping),
    )
    song = arranged_song(read_midi(midi), chip)  # type: ignore[arg-type]
    path, _ = write_project(template or default_template(), song, cfg, output)
    click.echo(f"{path}: REAPER project, renders {cfg.output_path}")


_MARKS = {True: "ok  ", False: "MISSING", None: "?   "}


@reaper.command()
@click.option(
    "--reaper-path",
    type=click.Path(path_type=Path),
    help="REAPER's executable (default: $CHIPLINE_REAPER, PATH, standard places).",
)
@click.option("-t", "--template", type=_IN_FILE, help="Template to check (default: ours).")
@click.option("--map", "mapping", multiple=True, metavar="VOICE=TRACK",
              help="Voice-to-track mapping, as for `project`.")  # fmt: skip
def doctor(reaper_path: Path | None, template: Path | None, mapping: tuple[str, ...]) -> None:
    """Check REAPER (executable, version, resource folder, actions) and a template."""
    from chipline.bridge.doctor import doctor as run_checks

    checks = run_checks(reaper_path, template, ProjectConfig(track_names=_parse_map(mapping)))
    for check in checks:
        line = f"{_MARKS[check.ok]} {check.what}"
        click.echo(
            line + (f"\n        -> {check.fix}" if check.fix and check.ok is not True else "")
        )
    missing = sum(check.ok is False for check in checks)
    click.echo(f"{missing} problem(s) found" if missing else "everything needed is in place")
    if missing:
        raise click.exceptions.Exit(1)


@reaper.command("install-actions")
@click.option(
    "--resource-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="REAPER's resource folder (default: the one of the REAPER found).",
)
@click.option("--reaper-path", type=click.Path(path_type=Path), help="REAPER's executable.")
def install_actions_command(resource_dir: Path | None, reaper_path: Path | None) -> None:
    """Copy chipline's REAPER actions and JSFX into REAPER and register the actions."""
    from chipline.bridge.actions import install_actions
    from chipline.bridge.reaper_env import find_reaper

    if resource_dir is None:
        resource_dir = find_reaper(reaper_path).resource_dir
        if resource_dir is None:
            raise BridgeError(
                "REAPER's resource folder was not found: start REAPER once, or give it with "
                "--resource-dir (REAPER: Options > Show REAPER resource path)."
            )
    changed = install_actions(resource_dir)
    if changed:
        click.echo(f"{resource_dir}: installed {len(changed)} file(s); restart REAPER to see "
                   "the chipline actions")  # fmt: skip
    else:
        click.echo(f"{resource_dir}: chipline actions already installed, nothing changed")


@reaper.command("render")
@click.argument("files", nargs=-1, required=True, type=_IN_FILE)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (created if needed).",
)
@click.option("-t", "--template", type=_IN_FILE, help="REAPER template (.rpp); default: ours.")
@click.option(
    "--backend",
    type=click.Choice(["reaper", "reaper-live", "reapy"]),
    default="reaper",
    show_default=True,
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="VOICE=TRACK",
    help="Play a voice on a template track of another name (repeatable).",
)
@click.option("--reaper-path", type=click.Path(path_type=Path), help="REAPER's executable.")
@click.option("--timeout-sec", type=click.FloatRange(min=1), help="Per-render time limit.")
@click.option(
    "--config", "config_file", type=_IN_FILE, help="TOML file with [render] and [reaper] tables."
)
def render_command(files: tuple[Path, ...], out_dir: Path, template: Path | None, backend: str,
                   mapping: tuple[str, ...], reaper_path: Path | None, timeout_sec: float | None,
                   config_file: Path | None) -> None:  # fmt: skip
    """Render MIDI FILES through REAPER with your template, then deliver them like `render`.

    One line per file; a failed file prints `Error: ...` and the others still render.
    """
    from chipline.bridge.base import Backend
    from chipline.bridge.live import LiveBackend, LiveConfig
    from chipline.bridge.reaper import ReaperBackend, ReaperConfig
    from chipline.bridge.reapy_backend import ReapyBackend, ReapyConfig
    from chipline.config import load_toml, override
    from chipline.master.names import unique_names
    from chipline.render import RenderConfig, render_file

    render_cfg = load_toml(config_file, RenderConfig, "render") if config_file else RenderConfig()
    reaper_cfg = load_toml(config_file, ReaperConfig, "reaper") if config_file else ReaperConfig()
    reaper_cfg = override(
        reaper_cfg,
        template=template,
        reaper_path=reaper_path,
        timeout_sec=timeout_sec,
        track_names=_parse_map(mapping) or None,
    )
    chosen: Backend
    if backend == "reaper-live":
        live = load_toml(config_file, LiveConfig, "reaper_live") if config_file else None
        chosen = LiveBackend(live, reaper_cfg)
    elif backend == "reapy":
        reapy = load_toml(config_file, ReapyConfig, "reapy") if config_file else None
        chosen = ReapyBackend(reapy, reaper_cfg)
    else:
        chosen = ReaperBackend(reaper_cfg)
    render_cfg = override(render_cfg, backend=backend)
    failed = 0
    for path, name in zip(files, unique_names(p.stem for p in files), strict=True):
        try:
            result = render_file(path, out_dir, render_cfg, name=name, backend=chosen)
        except ChiplineError as e:
            failed += 1
            click.echo(f"Error: {e}", err=True)
            continue
        names = ", ".join(p.name for p in result.files)
        click.echo(f"{path} -> {names} (through {backend})")
    if failed:
        raise click.exceptions.Exit(1)
