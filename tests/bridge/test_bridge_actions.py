"""Installing chipline's REAPER actions into a temporary resource folder; `reaper doctor`."""

from __future__ import annotations

import stat
from pathlib import Path

from reaper_fixtures import USER_MAP, USER_TEMPLATE, write

from chipline.bridge.actions import ACTIONS, install_actions, installed_actions
from chipline.cli import cli

# What a REAPER resource folder's reaper-kb.ini looks like before we touch it: CRLF (Windows),
# a user's own key binding and script, and an older chipline line to be replaced.
KB_BEFORE = (
    "KEY 1 65 40001 0\r\n"
    'SCR 4 0 RS7d3c_my_script "Custom: my script.lua" "my script.lua"\r\n'
    'SCR 4 0 chipline_generate "Custom: old title" "old/path.lua"'
)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_install_into_empty_resource_folder_then_rerun_changes_nothing(tmp_path):
    changed = install_actions(tmp_path)
    assert (tmp_path / "reaper-kb.ini") in changed
    assert (tmp_path / "Effects" / "chipline" / "chipline_voice.jsfx").is_file()
    for action in ACTIONS:
        assert (tmp_path / "Scripts" / "chipline" / action.script).is_file()
    kb = (tmp_path / "reaper-kb.ini").read_text().splitlines()
    assert len(kb) == len(ACTIONS)
    assert all(line.startswith("SCR 4 0 chipline_") for line in kb)
    assert set(installed_actions(tmp_path).values()) == {True}
    before = _snapshot(tmp_path)
    assert install_actions(tmp_path) == []
    assert _snapshot(tmp_path) == before  # same bytes, not even rewritten


def test_existing_bindings_are_kept_and_our_old_line_replaced(tmp_path):
    (tmp_path / "reaper-kb.ini").write_bytes(KB_BEFORE.encode())
    install_actions(tmp_path)
    raw = (tmp_path / "reaper-kb.ini").read_bytes()
    lines = raw.decode().split("\r\n")
    assert lines[:2] == KB_BEFORE.split("\r\n")[:2]  # the user's lines, untouched, in order
    assert sum("chipline_generate" in line for line in lines) == 1
    assert (
        '"Custom: chipline: generate and render tracks" "chipline/chipline_generate.lua"'
        in raw.decode()
    )
    assert b"\n" not in raw.replace(b"\r\n", b"")  # still CRLF throughout
    before = _snapshot(tmp_path)
    install_actions(tmp_path)
    assert _snapshot(tmp_path) == before


def test_changed_script_is_updated(tmp_path):
    install_actions(tmp_path)
    script = tmp_path / "Scripts" / "chipline" / ACTIONS[0].script
    script.write_text("-- edited")
    assert install_actions(tmp_path) == [script]


def test_cli_install_actions(runner, tmp_path):
    result = runner.invoke(cli, ["reaper", "install-actions", "--resource-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "restart REAPER" in result.output
    again = runner.invoke(cli, ["reaper", "install-actions", "--resource-dir", str(tmp_path)])
    assert "nothing changed" in again.output


def _fake_install(tmp_path: Path) -> Path:
    """A folder shaped like a portable REAPER install: an executable and reaper.ini beside it."""
    exe = tmp_path / "REAPER" / "reaper"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    (exe.parent / "reaper.ini").write_text("[REAPER]\n")
    (exe.parent / "whatsnew.txt").write_text("v7.27 - notes\n")
    return exe


def test_doctor_reports_missing_actions_voice_tracks_and_plugins(runner, tmp_path):
    exe = _fake_install(tmp_path)
    (exe.parent / "reaper-vstplugins64.ini").write_text("[vstcache]\nreasynth.dll=1,2,ReaSynth\n")
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    result = runner.invoke(
        cli, ["reaper", "doctor", "--reaper-path", str(exe), "-t", str(template)]
    )
    assert result.exit_code == 1
    out = result.output
    assert "REAPER version: 7.27" in out
    assert "MISSING action 'chipline: generate and render tracks'" in out
    assert "MISSING voice 'Pulse 1' on track 'Pulse 1'" in out
    assert "--map 'Pulse 1=TRACK'" in out
    assert "MISSING plug-in on 'Lead': VST VSTi: NES VST (Magic Bytes)" in out
    assert "MISSING plug-in on 'Pulse 2': JS chip/pulse voice.jsfx" in out


def test_doctor_all_in_place(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")  # the display check is tested on its own below
    exe = _fake_install(tmp_path)
    install_actions(exe.parent)
    (exe.parent / "reaper-vstplugins64.ini").write_text("[vstcache]\nnesvst.dll=1,2,NES VST\n")
    for js in ("chip/pulse voice.jsfx", "chip/tri.jsfx"):
        write(exe.parent / "Effects" / js, "desc:x\n")
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    args = ["reaper", "doctor", "--reaper-path", str(exe), "-t", str(template)]
    args += [f"--map={voice}={track}" for voice, track in USER_MAP.items()]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "MISSING" not in result.output
    assert "everything needed is in place" in result.output


def test_doctor_without_reaper_says_how_to_point_at_it(runner, tmp_path):
    result = runner.invoke(cli, ["reaper", "doctor", "--reaper-path", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "CHIPLINE_REAPER" in result.output
    assert (
        "ok   voice 'Pulse 1' on track 'Pulse 1'" in result.output
    )  # the template is still checked


def test_doctor_display_check(tmp_path):
    from chipline.bridge.doctor import display_checks

    assert display_checks({"DISPLAY": ":0"}, "linux") == []
    assert display_checks({}, "darwin") == []
    (missing,) = display_checks({"PATH": str(tmp_path)}, "linux")
    assert missing.ok is False
    assert "apt-get install xvfb" in missing.fix
    xvfb = tmp_path / "xvfb-run"
    xvfb.write_text("#!/bin/sh\n")
    xvfb.chmod(0o755)
    (found,) = display_checks({"PATH": str(tmp_path)}, "linux")
    assert found.ok is True
