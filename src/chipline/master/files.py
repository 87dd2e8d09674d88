"""Atomic file output: every file is written under a hidden temporary name, then renamed.

A reader (a game, the watch daemon, a browser) never sees a partial file: a track's files are
all staged first and renamed together at the end, and on any failure the staged ones are removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from types import TracebackType

from chipline import atomic
from chipline.errors import RenderError


def write_error(path: Path, e: OSError) -> RenderError:
    """A RenderError for a failed write of `path`, saying what to do."""
    reason = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        hint = "free some disk space or choose another --out"
    elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "choose a writable --out folder"
    else:
        hint = "check the output folder"
    return RenderError(f"{path}: cannot write ({reason}); {hint}")


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    try:
        return atomic.write_bytes(path, data)
    except OSError as e:
        raise write_error(path, e) from e


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Staging:
    """Temporary files for one track, renamed into place together by `commit()`.

    Used as a context manager: leaving it without `commit()` (an error) removes every staged file.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

    def stage(self, path: Path) -> Path:
        """A temporary path to write instead of `path`."""
        tmp = atomic.temp_name(path)
        self._staged[path] = tmp
        return tmp

    def commit(self) -> list[Path]:
        """Rename every staged file to its final name; returns the final paths."""
        done = []
        try:
            for final, tmp in self._staged.items():
                os.replace(tmp, final)
                done.append(final)
        except OSError as e:
            raise write_error(final, e) from e
        self._staged = {k: v for k, v in self._staged.items() if k not in done}
        return done

    def discard(self) -> None:
        for tmp in self._staged.values():
            tmp.unlink(missing_ok=True)
        self._staged = {}

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()
