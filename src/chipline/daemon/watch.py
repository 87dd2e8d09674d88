"""Noticing new MIDI files: watchdog events, the start-up scan, and the wait for a stable file."""

from __future__ import annotations

import logging
import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

logger = logging.getLogger(__name__)

MIDI_SUFFIXES = (".mid", ".midi")
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")


def is_candidate(path: Path) -> bool:
    """Whether `path` names a MIDI file to render: `.mid`/`.midi` in any case, not hidden, not a
    temporary file (`~$x.mid`, `x.mid.part`, `.x.mid` ...)."""
    name = path.name
    lower = name.lower()
    if name.startswith((".", "~")) or lower.endswith(TEMP_SUFFIXES):
        return False
    return lower.endswith(MIDI_SUFFIXES)


def scan(inbox: Path) -> list[Path]:
    """Candidate files directly in `inbox` (not in its sub-folders), oldest first."""
    found = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and is_candidate(Path(entry.name)):
                found.append((entry.stat().st_mtime, Path(entry.path)))
    return [p for _, p in sorted(found)]


class _Handler(FileSystemEventHandler):
    """Only queues paths: an exception here would stop the observer (watchdog #793)."""

    def __init__(self, inbox: Path, events: queue.SimpleQueue[tuple[Path, bool]]) -> None:
        self.inbox = inbox
        self.events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.is_directory:
                return
            if isinstance(event, FileMovedEvent):
                raw = event.dest_path
            elif isinstance(event, FileCreatedEvent | FileModifiedEvent | FileClosedEvent):
                raw = event.src_path
            else:
                return
            path = Path(os.fsdecode(raw))
            if path.parent == self.inbox and is_candidate(path):
                self.events.put((path, isinstance(event, FileClosedEvent)))
        except Exception:  # never let one event kill the observer thread
            logger.exception("ignored a file-system event that could not be handled")


class InboxWatcher:
    """A watchdog observer on `inbox` (not recursive) feeding `events` with (path, closed)."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.events: queue.SimpleQueue[tuple[Path, bool]] = queue.SimpleQueue()
        self._observer = Observer()
        self._observer.schedule(_Handler(inbox, self.events), os.fspath(inbox), recursive=False)

    def __enter__(self) -> InboxWatcher:
        self._observer.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._observer.stop()
        self._observer.join(timeout=10)

    def drain(self) -> list[tuple[Path, bool]]:
        """Every (path, closed_after_write) event since the last call."""
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    changed_sec: float
    closed: bool


class StabilityTracker:
    """Holds back a file until it is complete: size and mtime unchanged for `stable_sec`, or
    for `CLOSED_SETTLE_SEC` after a close-after-write event (inotify only; watchdog #586).

    "Created" fires when a copy starts, so an event alone never means a file is complete.
    """

    CLOSED_SETTLE_SEC = 0.2

    def __init__(self, stable_sec: float) -> None:
        self.stable_sec = stable_sec
        self._settle_sec = min(stable_sec, self.CLOSED_SETTLE_SEC)
        self._seen: dict[Path, _Seen] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def note(self, path: Path, closed: bool = False) -> None:
        """Start (or keep) watching `path`; `closed` marks a close-after-write event."""
        seen = self._seen.get(path)
        if seen is None:
            self._seen[path] = _Seen(-1, -1, time.monotonic(), closed)
        elif closed:
            seen.closed = True

    def ready(self) -> list[Path]:
        """Files now complete (and no longer tracked); vanished files are forgotten."""
        now = time.monotonic()
        done = []
        for path, seen in list(self._seen.items()):
            try:
                st = path.stat()
            except OSError:
                del self._seen[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                seen.size, seen.mtime_ns, seen.changed_sec = st.st_size, st.st_mtime_ns, now
                continue
            quiet_sec = now - seen.changed_sec
            if quiet_sec >= (self._settle_sec if seen.closed else self.stable_sec):
                del self._seen[path]
                done.append(path)
        return done
