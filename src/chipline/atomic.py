"""Atomic file output: write a hidden temporary file beside the target, then rename it into place.

Readers see the old file or the new one, never a partial one. OSError from creating folders,
writing or renaming propagates unchanged: each caller wraps it in its own error class.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_SUFFIX = ".tmp"


def temp_name(path: Path) -> Path:
    """A hidden, unique temporary name beside `path` (same file system, so renaming is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write instead of `path`.

    When the block succeeds the temporary file replaces `path`; on any failure (the block's or
    the rename's) it is removed and an existing `path` stays untouched. `make_parents` creates
    the missing folders of `path` first.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, make_parents: bool = False) -> Path:
    """Write `data` to `path` atomically; returns `path` as a Path."""
    with atomic_path(path, make_parents=make_parents) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(
    path: str | os.PathLike[str],
    text: str,
    *,
    encoding: str = "utf-8",
    errors: str | None = None,
    newline: str | None = None,
    make_parents: bool = False,
) -> Path:
    """Write `text` to `path` atomically (arguments as for `open`); returns `path` as a Path."""
    with atomic_path(path, make_parents=make_parents) as tmp:
        tmp.write_text(text, encoding=encoding, errors=errors, newline=newline)
    return Path(path)
