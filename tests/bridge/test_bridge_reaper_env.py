"""Finding REAPER: explicit path, environment, PATH, standard install places; resource folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipline.bridge.reaper_env import find_reaper, standard_locations
from chipline.errors import BridgeError


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_explicit_path_wins(tmp_path):
    exe = _exe(tmp_path / "a" / "reaper")
    other = _exe(tmp_path / "b" / "reaper")
    found = find_reaper(exe, env={"CHIPLINE_REAPER": str(other)}, platform="linux", home=tmp_path)
    assert (found.executable, found.found_by) == (exe, "--reaper-path")


def test_environment_then_path(tmp_path):
    exe = _exe(tmp_path / "env" / "reaper")
    found = find_reaper(env={"CHIPLINE_REAPER": str(exe)}, platform="linux", home=tmp_path)
    assert found.found_by == "CHIPLINE_REAPER"
    on_path = _exe(tmp_path / "bin" / "reaper")
    found = find_reaper(env={"PATH": str(on_path.parent)}, platform="linux", home=tmp_path)
    assert (found.executable, found.found_by) == (on_path, "PATH")


def test_user_install_on_linux_with_resource_folder_and_version(tmp_path):
    exe = _exe(tmp_path / "opt" / "REAPER" / "reaper")
    (exe.parent / "whatsnew.txt").write_text("v7.27 - November 2024\n  + things\n")
    (tmp_path / "cfg" / "REAPER").mkdir(parents=True)
    env = {"PATH": str(tmp_path / "empty"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    found = find_reaper(env=env, platform="linux", home=tmp_path)
    assert found.executable == exe
    assert found.found_by == "standard location"
    assert found.resource_dir == tmp_path / "cfg" / "REAPER"
    assert found.version == "7.27"


def test_portable_install_keeps_its_resources_beside_it(tmp_path):
    exe = _exe(tmp_path / "portable" / "reaper")
    (exe.parent / "reaper.ini").write_text("[REAPER]\n")
    found = find_reaper(exe, env={}, platform="linux", home=tmp_path)
    assert found.resource_dir == exe.parent
    assert found.version is None


def test_macos_app_bundle_folder(tmp_path):
    exe = _exe(tmp_path / "REAPER.app" / "Contents" / "MacOS" / "REAPER")
    found = find_reaper(tmp_path / "REAPER.app", env={}, platform="darwin", home=tmp_path)
    assert found.executable == exe


def test_standard_locations_per_platform(tmp_path):
    win = standard_locations("win32", tmp_path, {"ProgramFiles": r"C:\Program Files"})
    assert Path(r"C:\Program Files", "REAPER (x64)", "reaper.exe") in win
    mac = standard_locations("darwin", tmp_path, {})
    assert Path("/Applications/REAPER.app/Contents/MacOS/REAPER") in mac
    assert tmp_path / "opt/REAPER/reaper" in standard_locations("linux", tmp_path, {})


def test_not_found_names_where_it_looked_and_what_to_do(tmp_path):
    with pytest.raises(BridgeError) as info:
        find_reaper(env={"PATH": str(tmp_path)}, platform="linux", home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "opt/REAPER/reaper") in message
    assert "--reaper-path" in message
    assert "CHIPLINE_REAPER=" in message
