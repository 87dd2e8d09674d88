"""Find REAPER on this machine: its executable, its resource folder and its version."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chipline.errors import BridgeError

ENV_VAR = "CHIPLINE_REAPER"
VERSION_RE = re.compile(r"\bv?(\d+\.\d+[0-9a-z.+]*)", re.IGNORECASE)


@dataclass(frozen=True)
class ReaperInstall:
    """A REAPER installation: where the executable is, how it was found, its resource folder."""

    executable: Path
    found_by: str  # "--reaper-path", "CHIPLINE_REAPER", "PATH" or "standard location"
    resource_dir: Path | None
    version: str | None


def standard_locations(platform: str, home: Path, env: Mapping[str, str]) -> list[Path]:
    """Where REAPER's installers put the executable on `platform` (`sys.platform` values)."""
    if platform.startswith("win"):
        roots = [env.get("ProgramFiles", r"C:\Program Files"), env.get("ProgramW6432", "")]
        roots += [env.get("ProgramFiles(x86)", r"C:\Program Files (x86)")]
        dirs = [
            Path(r, d) for r in roots if r for d in ("REAPER (x64)", "REAPER", "REAPER (ARM64)")
        ]
        return [d / "reaper.exe" for d in dirs]
    if platform == "darwin":
        apps = [Path("/Applications"), home / "Applications"]
        return [a / f"{n}.app/Contents/MacOS/REAPER" for a in apps for n in ("REAPER", "REAPER64")]
    return [
        Path("/opt/REAPER/reaper"),
        home / "opt/REAPER/reaper",
        Path("/usr/local/bin/reaper"),
        Path("/usr/bin/reaper"),
    ]


def find_reaper(
    explicit: Path | None = None,
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    home: Path | None = None,
) -> ReaperInstall:
    """Locate REAPER: `explicit` path, then $CHIPLINE_REAPER, then PATH, then standard places.

    Raises:
        BridgeError: REAPER was not found; the message says how to point chipline at it.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    tried: list[str] = []
    candidates: list[tuple[Path, str]] = []
    if explicit is not None:
        candidates.append((Path(explicit), "--reaper-path"))
    elif env.get(ENV_VAR):
        candidates.append((Path(env[ENV_VAR]), ENV_VAR))
    else:
        on_path = shutil.which("reaper", path=env.get("PATH"))
        if on_path:
            candidates.append((Path(on_path), "PATH"))
        candidates += [(p, "standard location") for p in standard_locations(platform, home, env)]
    for path, how in candidates:
        exe = _executable_in(path, platform)
        if exe is not None:
            resource = resource_dir(exe, platform, home, env)
            return ReaperInstall(exe, how, resource, reaper_version(exe))
        tried.append(str(path))
    where = "; ".join(tried) or "PATH"
    raise BridgeError(
        f"REAPER not found (looked in: {where}). Point chipline at it with "
        f"--reaper-path /path/to/reaper (or the [reaper] reaper_path config key), or set "
        f"{ENV_VAR}=/path/to/reaper. REAPER is at https://www.reaper.fm/download.php"
    )


def _executable_in(path: Path, platform: str) -> Path | None:
    if path.is_dir():  # an install folder or a macOS .app bundle
        names = ["reaper.exe", "reaper", "Contents/MacOS/REAPER"]
        path = next((path / n for n in names if (path / n).is_file()), path)
    if path.is_file() and (platform.startswith("win") or os.access(path, os.X_OK)):
        return path
    return None


def resource_dir(exe: Path, platform: str, home: Path, env: Mapping[str, str]) -> Path | None:
    """REAPER's resource folder: beside a portable install, else the per-user default."""
    for folder in (exe.parent, *exe.parents[:3]):
        if (folder / "reaper.ini").is_file():
            return folder
    if platform.startswith("win"):
        default = Path(env.get("APPDATA", home / "AppData/Roaming")) / "REAPER"
    elif platform == "darwin":
        default = home / "Library/Application Support/REAPER"
    else:
        default = Path(env.get("XDG_CONFIG_HOME", home / ".config")) / "REAPER"
    return default if default.is_dir() else None


def reaper_version(exe: Path) -> str | None:
    """REAPER's version from the `whatsnew.txt` it ships (first line, e.g. `v7.27 - ...`).

    Best effort: None when no such file is found. Running REAPER to ask would open its window.
    """
    for folder in (exe.parent, exe.parent.parent / "Resources", exe.parent.parent):
        notes = folder / "whatsnew.txt"
        if notes.is_file():
            with open(notes, encoding="utf-8", errors="replace") as f:
                match = VERSION_RE.search(f.readline())
            if match:
                return match.group(1)
    return None
