"""Output names: safe file stems from input names, unique within a batch, never a path."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from chipline.errors import ConfigError

MAX_NAME_CHARS = 80
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(10)}


def safe_name(stem: str) -> str:
    """A file stem made only of letters, digits, `.`, `_` and `-`, starting with a letter or digit.

    Accents are dropped, anything else becomes `_`; an empty result is `track`, and Windows'
    reserved device names get a trailing `_`.
    """
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem)
    name = re.sub(r"_+", "_", name).lstrip("._-")[:MAX_NAME_CHARS].rstrip("._-")
    if not name:
        name = "track"
    if name.split(".")[0].lower() in _RESERVED:
        name += "_"
    return name


def check_name(name: str) -> str:
    """`name` itself if it is a safe output stem (see `safe_name`), else a ConfigError."""
    if not _SAFE.match(name) or len(name) > MAX_NAME_CHARS or name != safe_name(name):
        raise ConfigError(
            f"output name {name!r} is not a safe file name: use at most {MAX_NAME_CHARS} "
            f"letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def unique_names(stems: Iterable[str]) -> list[str]:
    """Safe names for `stems` in order; repeats get `-2`, `-3`, ... (case-insensitively)."""
    used: set[str] = set()
    names = []
    for stem in stems:
        base = safe_name(stem)
        name, k = base, 1
        while name.lower() in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name.lower())
        names.append(name)
    return names
