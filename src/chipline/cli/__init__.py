"""The `chipline` command line: one click group, one module per area.

Only this package prints or exits: 0 success, 1 a chipline error (`Error: ...`), 2 usage error.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from chipline import __version__
from chipline.errors import ChiplineError


class _Group(click.Group):
    """Turns every ChiplineError raised by a command into one line `Error: ...` and exit 1.

    Commands registered with `add_lazy` are imported when first used, so `chipline X` loads only
    what X needs (the render stack's scipy, for one, costs seconds of start-up).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}  # command name -> "module:attribute"

    def add_lazy(self, name: str, target: str) -> None:
        self.lazy[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

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
    cli.add_lazy("info", "chipline.cli.info:info")
    cli.add_lazy("reaper", "chipline.cli.reaper:reaper")
    cli.add_lazy("ingest", "chipline.cli.ingest:ingest")
    cli.add_lazy("watch", "chipline.cli.watch:watch")
    cli.add_lazy("status", "chipline.cli.watch:status")
    cli.add_lazy("render", "chipline.cli.render:render")
    cli.add_lazy("train", "chipline.cli.train:train")
    cli.add_lazy("import-magenta", "chipline.cli.train:import_magenta_cmd")
    cli.add_lazy("generate", "chipline.cli.generate:generate")
    cli.add_lazy("arrange", "chipline.cli.arrange:arrange")
    cli.add_lazy("make", "chipline.cli.make:make")
    cli.add_lazy("eval", "chipline.cli.eval:eval_cmd")


_register()


def main() -> None:
    cli(prog_name="chipline")
