"""The `reaper-live` back end with our real Lua action, run by a stand-in for REAPER's Lua API.

`standins/reaper_api_standin.lua` is not REAPER: it records the calls our action makes and writes
a marker ramp where a render would go, so these tests check the job protocol, never the sound.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from reaper_fixtures import nes_song

from chipline.bridge.base import RenderRequest
from chipline.bridge.live import ACTION_COMMAND, LiveBackend, LiveConfig
from chipline.bridge.reaper import ReaperConfig
from chipline.chip import ChipScore
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import write_midi

LUA = shutil.which("lua5.4") or shutil.which("lua")
SCRIPTS = Path(__file__).resolve().parents[2] / "src" / "chipline" / "reaper_scripts"
STANDIN = Path(__file__).parent / "standins" / "reaper_api_standin.lua"
PCM16_TOLERANCE = 1 / 32768  # the stand-in writes 16-bit PCM
needs_lua = pytest.mark.skipif(LUA is None, reason="needs a Lua 5.3+ interpreter (lua5.4)")


class StandinReaper:
    """Runs our live action under the Lua stand-in in a subprocess; `stop()` ends it."""

    def __init__(self, tmp_path: Path, mode: str = "render") -> None:
        self.resource = tmp_path / "resource"
        self.queue = self.resource / "chipline" / "queue"
        self.log = tmp_path / "calls.log"
        self.stop_file = tmp_path / "stop"
        env = dict(os.environ, STANDIN_LOG=str(self.log), STANDIN_RESOURCE=str(self.resource),
                   STANDIN_MODE=mode, STANDIN_STOP=str(self.stop_file), STANDIN_SECONDS="30",
                   STANDIN_SCRIPT=str(SCRIPTS / "chipline_live_render.lua"))  # fmt: skip
        self.proc = subprocess.Popen([LUA, str(STANDIN)], env=env)
        deadline = time.monotonic() + 10
        while not (self.queue / "alive").exists():
            assert time.monotonic() < deadline, "the action never started its loop"
            time.sleep(0.02)

    def stop(self) -> list[list[str]]:
        self.stop_file.touch()
        self.proc.wait(timeout=10)
        return [line.split("\t") for line in self.log.read_text().splitlines()]


def _request(tmp_path: Path) -> RenderRequest:
    song = nes_song()
    midi = write_midi(song, tmp_path / "work" / "arranged.mid")
    score = ChipScore("nes", song.ticks_per_beat, (), song.tempos, song.time_signatures,
                      song.end_tick)  # fmt: skip
    return RenderRequest(score, midi, tmp_path / "work", 48_000, 48_000 * 3)


def _backend(queue: Path, **cfg) -> LiveBackend:
    return LiveBackend(LiveConfig(queue_dir=queue, poll_sec=0.02, **cfg), ReaperConfig())


@needs_lua
def test_job_renders_in_a_new_tab_without_prompts(tmp_path):
    reaper = StandinReaper(tmp_path)
    try:
        request = _request(tmp_path)
        audio = _backend(reaper.queue, timeout_sec=20).render(request)
    finally:
        calls = reaper.stop()
    ramp = (np.arange(request.num_samples) % 1000) * 8 / 32768
    assert audio.shape == (request.num_samples,)  # the stand-in writes mono
    np.testing.assert_allclose(audio, ramp, atol=PCM16_TOLERANCE)
    job = request.work_dir / "job.rpp"
    sequence = [c for c in calls if c[0] in ("Main_openProject", "Main_OnCommand")]
    assert sequence == [
        ["Main_OnCommand", "40859", "0"],  # new project tab: the user's project stays open
        ["Main_openProject", f"noprompt:{job}"],
        ["Main_OnCommand", "42230", "0"],  # render with the project's settings, auto-close
        ["Main_openProject", f"noprompt:{reaper.queue / 'empty.rpp'}"],
        ["Main_OnCommand", "40860", "0"],  # close the tab (an unchanged empty project)
    ]
    assert not [c for c in calls if c[0] == "PROMPT"]
    assert sorted(p.name for p in reaper.queue.iterdir()) == ["empty.rpp"]  # alive removed


@needs_lua
def test_stale_render_is_deleted_before_rendering(tmp_path):
    request = _request(tmp_path)
    stale = request.work_dir / "reaper" / "render.wav"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    reaper = StandinReaper(tmp_path)
    try:
        _backend(reaper.queue, timeout_sec=20).render(request)
    finally:
        calls = reaper.stop()
    assert not [c for c in calls if c[0] == "PROMPT"]


@needs_lua
def test_render_that_writes_nothing_is_a_transient_error(tmp_path):
    reaper = StandinReaper(tmp_path, mode="silent-render")
    try:
        with pytest.raises(BridgeError, match="missing or empty") as info:
            _backend(reaper.queue, timeout_sec=20).render(_request(tmp_path))
    finally:
        reaper.stop()
    assert info.value.transient


@needs_lua
def test_reaper_that_stops_answering_times_out(tmp_path):
    reaper = StandinReaper(tmp_path, mode="hang-on-render")
    try:
        with pytest.raises(BridgeTimeout, match="took the job but did not finish"):
            _backend(reaper.queue, timeout_sec=1).render(_request(tmp_path))
    finally:
        calls = reaper.stop()
    assert ["HANG"] in calls


def test_action_not_running(tmp_path):
    queue = tmp_path / "queue"
    with pytest.raises(BridgeError, match="chipline: render queued job") as info:
        _backend(queue).render(_request(tmp_path))
    assert info.value.transient
    assert not queue.exists() or not list(queue.glob("*.job"))


def test_job_never_taken_is_withdrawn(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    (queue / "alive").touch()  # looks alive, but nothing takes jobs
    with pytest.raises(BridgeTimeout, match="never took the job"):
        _backend(queue, timeout_sec=0.3).render(_request(tmp_path))
    assert not list(queue.glob("*.job"))


def test_web_interface_starts_the_action(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    paths: list[str] = []

    class WebInterface(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            paths.append(self.path)
            (queue / "alive").touch()  # as the started action would
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), WebInterface)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        _backend(queue, web_url=url).ensure_running(queue)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert paths == [f"/_/{ACTION_COMMAND}"]


@pytest.mark.skipif(shutil.which("luac5.4") is None, reason="needs luac5.4")
@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.lua")))
def test_every_action_script_compiles(script, tmp_path):
    subprocess.run(["luac5.4", "-p", str(SCRIPTS / script)], check=True)
