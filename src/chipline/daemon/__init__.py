"""The watch daemon: every MIDI file dropped in an inbox is rendered exactly once."""

from chipline.daemon.config import DaemonConfig
from chipline.daemon.flow import Layout
from chipline.daemon.service import Daemon, serve

__all__ = ["Daemon", "DaemonConfig", "Layout", "serve"]
