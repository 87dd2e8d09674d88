"""What a worker runs per file: the real renderer by default, or a named function."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipline.errors import ConfigError


@dataclass(frozen=True)
class RenderJob:
    """Renders one MIDI file with `chipline.render.render_file` (picklable, for spawn).

    `config` is a `RenderConfig` (None: its defaults).
    """

    config: Any = None

    def prepare(self) -> None:
        """Import the renderer once when the worker starts, not inside the first job."""
        importlib.import_module("chipline.render")

    def __call__(self, midi_path: Path, out_dir: Path, name: str) -> list[Path]:
        """Render `midi_path` into `out_dir` as `name`; return every file written there (audio,
        arranged MIDI, piano roll, the track's manifest record)."""
        from chipline.render import RenderConfig, render_file

        config = self.config if self.config is not None else RenderConfig()
        # The daemon's main process rebuilds the folder's manifest, one process at a time.
        render_file(midi_path, out_dir, config, name=name, refresh=False)
        return sorted(p for p in out_dir.rglob("*") if p.is_file())


def load_job(spec: str) -> Any:
    """The callable named by `module:function` (for custom pipelines, tests and benchmarks)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"job {spec!r}: expected 'module:function'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"job {spec!r}: cannot import it ({e})") from e


def manifest_refresher() -> Any:
    """`chipline.master.folder.refresh`, which rebuilds manifest.json and index.html."""
    from chipline.master.folder import refresh

    return refresh
