"""The only OS-specific code of the daemon: the single-instance lock and the stop signals."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO

from chipline import atomic
from chipline.errors import DaemonError

LOCK_NAME = "daemon.lock"
PID_NAME = "daemon.pid"


def _try_lock(f: IO[bytes]) -> bool:
    """Take an exclusive, non-blocking lock on the open file `f`; False if someone holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(f: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class InstanceLock:
    """One daemon per inbox: an OS file lock in `state_dir`, released by the OS on any exit.

    The holder's pid is written next to it (`daemon.pid`) so a second daemon can name it.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or raise `DaemonError` naming the pid of the daemon holding it."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        f = open(self.state_dir / LOCK_NAME, "a+b")  # noqa: SIM115 - held until release()
        if not _try_lock(f):
            f.close()
            raise self._held()
        self._file = f
        atomic.write_text(self.state_dir / PID_NAME, f"{os.getpid()}\n")

    def check(self) -> None:
        """Raise the `acquire` error now if a daemon holds the lock (without taking it)."""
        if is_locked(self.state_dir):
            raise self._held()

    def _held(self) -> DaemonError:
        pid = read_pid(self.state_dir)
        who = f"pid {pid}" if pid else "another process"
        return DaemonError(
            f"{self.state_dir.parent}: a chipline daemon is already watching this inbox "
            f"({who}); stop it first, or watch another folder"
        )

    def release(self) -> None:
        """Drop the lock and the pid file (idempotent)."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            (self.state_dir / PID_NAME).unlink()
        _unlock(self._file)
        self._file.close()
        self._file = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_pid(state_dir: Path) -> int | None:
    """The pid written by the last daemon that took the lock, or None."""
    try:
        return int((state_dir / PID_NAME).read_text().strip())
    except (OSError, ValueError):
        return None


def is_locked(state_dir: Path) -> bool:
    """Whether a daemon holds the lock of `state_dir` right now (probes without keeping it)."""
    path = state_dir / LOCK_NAME
    if not path.exists():
        return False
    with open(path, "a+b") as f:
        if _try_lock(f):
            _unlock(f)
            return False
        return True


def stop_signals() -> tuple[signal.Signals, ...]:
    """The signals that ask the daemon to stop: SIGINT and SIGTERM (SIGBREAK on Windows)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return tuple(getattr(signal, n) for n in names if hasattr(signal, n))


def install_stop_handler(on_stop: Callable[[int], None]) -> dict[int, object]:
    """Route the stop signals to `on_stop(signum)`; return the previous handlers."""

    def handler(signum: int, frame: FrameType | None) -> None:
        on_stop(signum)

    return {int(s): signal.signal(s, handler) for s in stop_signals()}


def restore_handlers(previous: dict[int, object]) -> None:
    """Put back the handlers returned by `install_stop_handler`."""
    for signum, old in previous.items():
        signal.signal(signum, old)  # type: ignore[arg-type]


def ignore_stop_signals() -> None:
    """In a worker process: the parent decides when to stop (Ctrl-C reaches the whole group)."""
    for s in stop_signals():
        signal.signal(s, signal.SIG_IGN)
