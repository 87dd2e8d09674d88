"""The watch daemon: every MIDI file dropped in an inbox is rendered exactly once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chipline.daemon.config import DaemonConfig
    from chipline.daemon.flow import Layout
    from chipline.daemon.service import Daemon, serve

__all__ = ["Daemon", "DaemonConfig", "Layout", "serve"]
_WHERE = {
    "Daemon": "service",
    "serve": "service",
    "DaemonConfig": "config",
    "Layout": "flow",
}


def __getattr__(name: str) -> Any:
    # Lazy, so a worker process imports only what it runs (it starts faster).
    if name not in _WHERE:
        raise AttributeError(f"module 'chipline.daemon' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"chipline.daemon.{_WHERE[name]}"), name)
