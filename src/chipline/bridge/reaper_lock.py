"""One REAPER render at a time on this machine: separate REAPER instances can conflict.

A lock file shared by every chipline process (daemon workers included); waiting for it is
bounded, and a wait past the bound is a transient error, as a busy REAPER is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from chipline.errors import BridgeTimeout

POLL_SEC = 0.05


def default_lock_path() -> Path:
    return Path(tempfile.gettempdir()) / "chipline-reaper.lock"


@contextlib.contextmanager
def reaper_lock(path: Path, timeout_sec: float) -> Iterator[None]:
    """Hold the machine-wide REAPER lock at `path` for the duration of the block.

    Raises:
        BridgeTimeout: another process held it for longer than `timeout_sec`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout_sec
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise BridgeTimeout(
                    f"another REAPER render held {path} for more than {timeout_sec:g} s; "
                    "chipline renders through one REAPER at a time"
                )
            time.sleep(POLL_SEC)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform.startswith("win"):
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform.startswith("win"):
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
