"""Install chipline's REAPER actions (Lua ReaScripts) and chip-voice JSFX into a resource folder.

Scripts go to `Scripts/chipline/`, the JSFX to `Effects/chipline/`, and each action is registered
in `reaper-kb.ini` under a fixed, readable command name (run as `_chipline_...`). Running it again
changes nothing; REAPER reads `reaper-kb.ini` at start, so restart REAPER after the first install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chipline import atomic

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "reaper_scripts"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "reaper"
KB_FILE = "reaper-kb.ini"
MAIN_SECTION = 0
SCRIPT_FLAGS = 4  # what REAPER writes for a ReaScript registered from the action list


@dataclass(frozen=True)
class Action:
    """One REAPER action: its command name (`_` + this runs it), title and script file."""

    command: str
    title: str
    script: str


ACTIONS = (
    Action("chipline_generate", "chipline: generate and render tracks", "chipline_generate.lua"),
    Action(
        "chipline_render_to_game",
        "chipline: render this project to the game folder",
        "chipline_render_to_game.lua",
    ),
    Action(
        "chipline_live_render", "chipline: render queued job (live)", "chipline_live_render.lua"
    ),
)
JSFX = ("chipline_voice.jsfx",)


def kb_line(action: Action) -> str:
    """The `reaper-kb.ini` line registering `action` (script path relative to `Scripts/`)."""
    return (
        f'SCR {SCRIPT_FLAGS} {MAIN_SECTION} {action.command} "Custom: {action.title}" '
        f'"chipline/{action.script}"'
    )


def install_actions(resource_dir: Path) -> list[Path]:
    """Copy the scripts and JSFX into `resource_dir` and register the actions.

    Returns the files written or changed (empty when everything was already in place).
    """
    changed: list[Path] = []
    for action in ACTIONS:
        target = resource_dir / "Scripts" / "chipline" / action.script
        if _copy_if_different(SCRIPTS_DIR / action.script, target):
            changed.append(target)
    for name in JSFX:
        target = resource_dir / "Effects" / "chipline" / name
        if _copy_if_different(TEMPLATES_DIR / name, target):
            changed.append(target)
    kb = resource_dir / KB_FILE
    if _register(kb):
        changed.append(kb)
    return changed


def installed_actions(resource_dir: Path) -> dict[str, bool]:
    """For each action title: is its script present and its line in `reaper-kb.ini`?"""
    kb = resource_dir / KB_FILE
    lines = _read_lines(kb) if kb.is_file() else []
    return {
        a.title: kb_line(a) in lines and (resource_dir / "Scripts/chipline" / a.script).is_file()
        for a in ACTIONS
    }


def _copy_if_different(source: Path, target: Path) -> bool:
    data = source.read_bytes()
    if target.is_file() and target.read_bytes() == data:
        return False
    atomic.write_bytes(target, data, make_parents=True)
    return True


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()


def _newline(path: Path) -> str:
    """The file's own line ending (REAPER on Windows writes CRLF), LF for a new file."""
    return "\r\n" if path.is_file() and b"\r\n" in path.read_bytes() else "\n"


def _register(kb: Path) -> bool:
    """Add or update our SCR lines in `kb`, keeping every other line; True if it changed."""
    lines = _read_lines(kb) if kb.is_file() else []
    ours = {a.command: kb_line(a) for a in ACTIONS}
    kept, placed = [], set()
    for line in lines:
        fields = line.split()
        command = fields[3] if len(fields) > 3 and fields[0] == "SCR" else None
        if command in ours:
            if command not in placed:  # an older or duplicate registration is replaced
                kept.append(ours[command])
                placed.add(command)
            continue
        kept.append(line)
    kept += [ours[c] for c in ours if c not in placed]
    if kept == lines:
        return False
    # REAPER may have written the file without a final newline (reapy appends without one).
    newline = _newline(kb)
    data = (newline.join(kept) + newline).encode("utf-8", errors="surrogateescape")
    atomic.write_bytes(kb, data, make_parents=True)
    return True
