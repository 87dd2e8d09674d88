"""The `chipline` command line: one click group, one module per area.

Only this package prints or exits: 0 success, 1 a chipline error (`Error: ...`), 2 usage error.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from chipline import __version__
from chipline.errors import ChiplineError


class _Group(click.Group):
    """Turns every ChiplineError raised by a command into one line `Error: ...` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChiplineError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chipline")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """chipline: learn from MIDI, write new tracks, deliver loopable chiptune audio for games."""
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", force=True)
    logging.captureWarnings(True)


def _register() -> None:
    from chipline.cli import arrange as arrange_cmd
    from chipline.cli import generate, info, ingest, reaper, render, train, watch

    cli.add_command(info.info)
    cli.add_command(reaper.reaper)
    cli.add_command(ingest.ingest)
    cli.add_command(watch.watch)
    cli.add_command(watch.status)
    cli.add_command(render.render)
    cli.add_command(train.train)
    cli.add_command(train.import_magenta_cmd)
    cli.add_command(generate.generate)
    cli.add_command(arrange_cmd.arrange)


_register()


def main() -> None:
    cli(prog_name="chipline")
