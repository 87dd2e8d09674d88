"""Render back ends behind one interface: built-in chip synth, REAPER, reapy.

`get_backend(name, render_config)` builds the back end registered under `name`; each entry of
`BACKENDS` imports its module only when used, so heavy or optional back ends cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from chipline.errors import ConfigError

if TYPE_CHECKING:
    from chipline.bridge.base import Backend


def _chip(render_config: Any) -> Backend:
    from chipline.bridge.chip import ChipBackend

    return cast("Backend", ChipBackend(region=render_config.region, filter=render_config.filter))


def _reaper(render_config: Any) -> Backend:
    from chipline.bridge.reaper import ReaperBackend, ReaperConfig

    return cast("Backend", ReaperBackend(getattr(render_config, "reaper", None) or ReaperConfig()))


def _reaper_live(render_config: Any) -> Backend:
    from chipline.bridge.live import LiveBackend

    live, reaper = (
        getattr(render_config, "reaper_live", None),
        getattr(render_config, "reaper", None),
    )
    return cast("Backend", LiveBackend(live, reaper))


def _reapy(render_config: Any) -> Backend:
    from chipline.bridge.reapy_backend import ReapyBackend

    reapy, reaper = getattr(render_config, "reapy", None), getattr(render_config, "reaper", None)
    return cast("Backend", ReapyBackend(reapy, reaper))


BACKENDS: dict[str, Callable[[Any], Backend]] = {
    "chip": _chip,
    "reaper": _reaper,
    "reaper-live": _reaper_live,
    "reapy": _reapy,
}


def get_backend(name: str, render_config: Any) -> Backend:
    """The back end registered as `name`, configured from a `RenderConfig`.

    Raises:
        ConfigError: no back end of that name.
    """
    try:
        factory = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown render back end {name!r}; choose one of: {known}") from None
    return factory(render_config)
