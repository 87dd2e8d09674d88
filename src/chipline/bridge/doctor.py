"""`chipline reaper doctor`: check a REAPER setup and a template; say plainly what is missing."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import rpp

from chipline.bridge.actions import installed_actions
from chipline.bridge.project import (
    ProjectConfig,
    default_template,
    default_voices,
    parse_project,
    template_track_names,
)
from chipline.bridge.reaper_env import ReaperInstall, find_reaper
from chipline.errors import BridgeError

PLUGIN_TAGS = ("VST", "JS", "AU", "CLAP", "DX", "LV2")
VST_INDEX_FILES = (
    "reaper-vstplugins64.ini",
    "reaper-vstplugins_arm64.ini",
    "reaper-vstplugins.ini",
)


@dataclass(frozen=True)
class Check:
    """One finding: `ok` True (fine), False (missing: `fix` says what to do) or None (unknown)."""

    ok: bool | None
    what: str
    fix: str = ""


@dataclass(frozen=True)
class Plugin:
    """A plug-in a template track uses: its kind (`VST`, `JS` ...), name and file."""

    track: str
    kind: str
    name: str
    file: str


def template_plugins(root: rpp.Element) -> list[Plugin]:
    """Every plug-in in the FX chains of the template's tracks."""
    found = []
    for track in root.findall("TRACK"):
        name_row = track.find("NAME")
        track_name = str(name_row[1]) if name_row is not None and len(name_row) > 1 else ""
        chain = track.find("FXCHAIN")
        for fx in chain or []:
            if isinstance(fx, rpp.Element) and fx.tag in PLUGIN_TAGS and fx.attrib:
                name = str(fx.attrib[0])
                file = str(fx.attrib[1]) if fx.tag == "VST" and len(fx.attrib) > 1 else name
                found.append(Plugin(track_name, fx.tag, name, file))
    return found


def check_reaper(reaper_path: Path | None) -> tuple[list[Check], ReaperInstall | None]:
    try:
        install = find_reaper(reaper_path)
    except BridgeError as e:
        return [Check(False, "REAPER executable", str(e))], None
    checks = [
        Check(True, f"REAPER: {install.executable} (found by {install.found_by})"),
        Check(
            install.version is not None,
            f"REAPER version: {install.version or 'unknown'}",
            "" if install.version else "no whatsnew.txt beside REAPER to read it from",
        ),
    ]
    checks += display_checks(os.environ, sys.platform)
    if install.resource_dir is None:
        checks.append(Check(False, "REAPER resource folder", "start REAPER once to create it"))
    else:
        checks.append(Check(True, f"REAPER resource folder: {install.resource_dir}"))
        for title, ok in installed_actions(install.resource_dir).items():
            checks.append(Check(ok, f"action '{title}'", "run `chipline reaper install-actions`"))
    return checks, install


def display_checks(env: Mapping[str, str], platform: str) -> list[Check]:
    """REAPER opens a window even to render: on Linux without a display it needs xvfb-run."""
    if not platform.startswith("linux") or env.get("DISPLAY"):
        return []
    xvfb = shutil.which("xvfb-run", path=env.get("PATH"))
    return [
        Check(
            xvfb is not None,
            f"no display ($DISPLAY unset): renders run under {xvfb or 'xvfb-run'}",
            "install xvfb (apt-get install xvfb), or run chipline in a desktop session",
        )
    ]


def check_template(
    template: Path | None, resource_dir: Path | None, cfg: ProjectConfig | None = None
) -> list[Check]:
    cfg = cfg or ProjectConfig()
    path = template or default_template()
    try:
        root = parse_project(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except OSError as e:
        return [Check(False, f"template {path}", f"cannot read it ({e.strerror or e})")]
    except BridgeError as e:
        return [Check(False, f"template {path}", str(e))]
    names = template_track_names(root)
    checks = [Check(True, f"template {path}: tracks {', '.join(map(repr, names)) or 'none'}")]
    for voice in default_voices():
        track = cfg.track_for(voice)
        checks.append(
            Check(
                track in names,
                f"voice {voice!r} on track {track!r}",
                f"add a track named {track!r}, or map the voice with --map '{voice}=TRACK'",
            )
        )
    checks += [_plugin_check(p, resource_dir) for p in template_plugins(root)]
    return checks


def _plugin_check(plugin: Plugin, resource_dir: Path | None) -> Check:
    what = f"plug-in on {plugin.track!r}: {plugin.kind} {plugin.name}"
    if resource_dir is None:
        return Check(None, what, "not checked: REAPER's resource folder is unknown")
    if plugin.kind == "JS":
        present = (resource_dir / "Effects" / plugin.name).is_file()
        return Check(present, what, f"copy it to {resource_dir / 'Effects' / plugin.name}"
                     + (" (`chipline reaper install-actions` does it)"
                        if plugin.name.startswith("chipline/") else ""))  # fmt: skip
    if plugin.kind == "VST":
        indexes = [resource_dir / n for n in VST_INDEX_FILES if (resource_dir / n).is_file()]
        if not indexes:
            return Check(None, what, "not checked: REAPER has not scanned plug-ins yet")
        known = any(
            _plugin_key(line.split("=", 1)[0]) == _plugin_key(plugin.file)
            for index in indexes
            for line in index.read_text(encoding="utf-8", errors="replace").splitlines()
        )
        return Check(known, what, "install the plug-in and let REAPER rescan (Preferences > VST)")
    return Check(None, what, "not checked for this plug-in kind")


def _plugin_key(file: str) -> str:
    """A plug-in file name as compared with REAPER's scan list (case and spaces ignored)."""
    return Path(file.replace("\\", "/")).name.lower().replace(" ", "_")


def doctor(reaper_path: Path | None, template: Path | None, cfg: ProjectConfig) -> list[Check]:
    """All checks: REAPER found, version, resource folder, actions, template tracks, plug-ins."""
    checks, install = check_reaper(reaper_path)
    resource = install.resource_dir if install else None
    return checks + check_template(template, resource, cfg)
