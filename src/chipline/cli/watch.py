"""`chipline watch INBOX --out DIR` (the daemon) and `chipline status INBOX`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from chipline.config import load_toml, override
from chipline.daemon import Daemon, DaemonConfig, Layout, serve
from chipline.daemon.jobs import RenderJob, load_job, manifest_refresher
from chipline.daemon.platform import InstanceLock
from chipline.daemon.status import format_status, inbox_status

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _formats(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    return tuple(f.strip().lower() for f in value.split(",") if f.strip())


def render_options(fn: Any) -> Any:
    """The options of `chipline render`, passed on to the renderer's `RenderConfig`."""
    options = [
        click.option("--chip", type=click.Choice(["nes", "vrc6"]), help="Voices: nes or vrc6."),
        click.option("--region", type=click.Choice(["ntsc", "pal"]), help="Chip clock."),
        click.option(
            "--filter",
            "filter",
            type=click.Choice(["clean", "famicom", "nes"]),
            help="Output filter profile.",
        ),
        click.option("--formats", callback=_formats, help="Comma list of ogg,wav,mp3."),
        click.option("--loudness", help="LUFS target or preset (default, console, mobile, web)."),
        click.option("--stems/--no-stems", default=None, help="Also write one WAV per voice."),
        click.option("--loop/--no-loop", default=None, help="Loop the piece (default)."),
        click.option(
            "--overwrite",
            is_flag=True,
            default=None,
            help="A new version of a file replaces its outputs instead of getting a new name.",
        ),
        click.option("--backend", help="Render back end (default chip)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _render_config(config_file: Path | None, opts: dict[str, Any]) -> Any:
    from chipline.render import RenderConfig

    base = load_toml(config_file, RenderConfig, "render") if config_file else RenderConfig()
    return override(base, **opts)


@click.command()
@click.argument("inbox", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The game's audio folder: finished files appear here, complete.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file: [watch] daemon settings, [render] settings.",
)
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (0: one per core).")
@click.option("--stable-sec", type=click.FloatRange(min=0), help="Wait for unchanged files.")
@click.option("--timeout-sec", type=click.FloatRange(min=0.1), help="Per-job time limit.")
@click.option("--max-attempts", type=click.IntRange(min=1), help="Tries for transient failures.")
@click.option(
    "--rerender-duplicates",
    is_flag=True,
    default=None,
    help="Render a file again even if the same content was rendered before.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append the log (one line per job) to this file.",
)
@click.option("--job", "job_spec", hidden=True, help="module:function to run instead of render.")
@render_options
def watch(
    inbox: Path,
    out_dir: Path,
    config_file: Path | None,
    workers: int | None,
    stable_sec: float | None,
    timeout_sec: float | None,
    max_attempts: int | None,
    rerender_duplicates: bool | None,
    log_file: Path | None,
    job_spec: str | None,
    **render_opts: Any,
) -> None:
    """Render every MIDI file dropped into INBOX into DIR (--out), exactly once, until stopped.

    Finished MIDI files move to INBOX/done/, failed ones to INBOX/failed/ with an .error.txt.
    Stop with Ctrl-C or SIGTERM: running jobs finish (or are re-queued), then it exits 0.
    """
    cfg = load_toml(config_file, DaemonConfig, "watch") if config_file else DaemonConfig()
    cfg = override(
        cfg,
        num_workers=workers,
        stable_sec=stable_sec,
        job_timeout_sec=timeout_sec,
        max_attempts=max_attempts,
        skip_duplicates=False if rerender_duplicates else None,
        overwrite=render_opts.get("overwrite"),
    )
    layout = Layout(inbox.absolute(), out_dir.absolute())
    InstanceLock(layout.state_dir).check()  # a clear message before the slow imports below
    _setup_logging(log_file)
    job = load_job(job_spec) if job_spec else RenderJob(_render_config(config_file, render_opts))
    daemon = Daemon(layout, cfg, job, after_delivery=manifest_refresher())
    click.echo(f"watching {inbox} → {out_dir} with {cfg.workers()} workers (Ctrl-C stops)")
    serve(daemon)
    click.echo("stopped")


def _setup_logging(log_file: Path | None) -> None:
    """One INFO line per job, shown unless -q; `--log-file` adds a timestamped copy."""
    root = logging.getLogger()
    daemon_logger = logging.getLogger("chipline.daemon")
    if root.level > logging.INFO and root.level < logging.ERROR:
        daemon_logger.setLevel(logging.INFO)
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        daemon_logger.addHandler(handler)


@click.command()
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for machines.")
def status(inbox: Path, as_json: bool) -> None:
    """Show INBOX's queue: jobs per state, recent failures, throughput, daemon running or not."""
    report = inbox_status(inbox)
    if as_json:
        click.echo(json.dumps(report))
    else:
        for line in format_status(report):
            click.echo(line)
