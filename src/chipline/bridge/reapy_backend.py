"""The `reapy` back end (optional extra `chipline[reapy]`): a running REAPER driven by python-reapy.

python-reapy 0.10 (last released 2020) needs Python enabled inside REAPER and its server script
running there. Its client waits forever for each answer and its import can recurse without end
when REAPER is half configured, so the reapy side runs in a child process (`reapy_job`) that
reports every step; each step has a deadline here, and a step past it kills the child.

Security: reapy's server inside REAPER listens on all interfaces (0.0.0.0, port 2306) and runs
any Python callable it is sent; REAPER's web interface (port 2307) is unauthenticated. Anyone
who can reach those ports can run code in REAPER: keep them firewalled or on loopback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline.bridge.base import RenderRequest
from chipline.bridge.reaper import ReaperBackend, ReaperConfig, fit_length, read_render
from chipline.bridge.reapy_job import ACTION_RENDER
from chipline.bridge.rppmidi import voice_notes
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import read_midi

logger = logging.getLogger(__name__)

EMPTY_PROJECT = '<REAPER_PROJECT 0.1 "6.0" 0\n>\n'
OUTPUT_LINES_KEPT = 40


@dataclass(frozen=True)
class ReapyConfig:
    """Settings of the `reapy` back end (the `[reapy]` config table).

    `import_timeout_sec` bounds importing reapy and connecting; `call_timeout_sec` each ReaScript
    call; `render_timeout_sec` the render action itself.
    """

    host: str = "localhost"
    web_port: int = 2307  # REAPER's web interface, as reapy.configure_reaper() sets it up
    import_timeout_sec: float = 20.0
    call_timeout_sec: float = 10.0
    render_timeout_sec: float = 300.0
    python: str = sys.executable


class ReapyBackend:
    """Renders each job in a running REAPER through python-reapy's raw ReaScript calls."""

    name = "reapy"

    def __init__(self, cfg: ReapyConfig | None = None, reaper: ReaperConfig | None = None) -> None:
        self.cfg = cfg or ReapyConfig()
        self.reaper = reaper or ReaperConfig()

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        """Render `request` in the running REAPER: float32, (num_samples, 2), in [-1, 1]."""
        song = read_midi(request.arranged_midi)
        work = request.work_dir.resolve()  # REAPER reads these paths from its own folder
        project_cfg = self.reaper.project_config(work / "reaper", request.sample_rate)
        job = ReaperBackend(self.reaper).write_job(song, project_cfg, work / "job.rpp")
        empty = work / "empty.rpp"
        empty.write_text(EMPTY_PROJECT, encoding="utf-8")
        spec = {
            "host": self.cfg.host,
            "web_port": self.cfg.web_port,
            "project": str(job),
            "empty_project": str(empty),
            "output_dir": str(project_cfg.output_dir),
            "output_name": project_cfg.output_name,
            "tracks": [project_cfg.track_for(v) for v in voice_notes(song)],
        }
        output = run_reapy_job(spec, self.cfg)
        audio = read_render(
            project_cfg.output_path, song.duration_sec, self.reaper.tail_sec,
            request.sample_rate, output,
        )  # fmt: skip
        return fit_length(audio, request.num_samples)


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_reapy_job(spec: dict[str, Any], cfg: ReapyConfig) -> str:
    """Run `reapy_job` in a child process, each step under its deadline; returns its output.

    Raises:
        BridgeTimeout: a step did not finish in time (the child is killed).
        BridgeError: reapy is not installed, REAPER is unreachable or refused a call.
    """
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [_src_root(), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.Popen(
        [cfg.python, "-m", "chipline.bridge.reapy_job"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps(spec))
    proc.stdin.close()
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    try:
        return _follow(proc, lines, cfg)
    finally:
        _stop(proc)
        reader.join()
        proc.stdout.close()


def _follow(proc: subprocess.Popen[str], lines: queue.Queue[str | None], cfg: ReapyConfig) -> str:
    kept: list[str] = []
    step: dict[str, Any] = {"step": "start"}
    while True:
        timeout = _timeout_for(step, cfg)
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise BridgeTimeout(
                f"reapy: {_describe(step)} got no answer from REAPER within {timeout:g} s; "
                f"the reapy process was stopped. A dialog may be open in REAPER.\n"
                + "\n".join(kept[-OUTPUT_LINES_KEPT:])
            ) from None
        if line is None:
            break
        kept.append(line.rstrip())
        event = _event(line)
        if event is None:
            continue
        if event["step"] == "failed":
            raise BridgeError(f"reapy: {event['message']}", transient=bool(event["transient"]))
        if event["step"] == "finished":
            return "\n".join(kept[-OUTPUT_LINES_KEPT:])
        step = event
    proc.wait()
    text = "\n".join(kept[-OUTPUT_LINES_KEPT:])
    if "No module named 'reapy'" in text:
        raise BridgeError(
            "the reapy back end needs python-reapy: pip install 'chipline[reapy]'. " + text
        )
    raise BridgeError(
        f"reapy: the job process ended without a result (exit {proc.returncode}):\n{text}"
    )


def _event(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "step" in event else None


def _timeout_for(step: dict[str, Any], cfg: ReapyConfig) -> float:
    if step["step"] in ("start", "import", "connect"):
        return cfg.import_timeout_sec
    args = step.get("args") or [None]
    if step["step"] == "call" and step.get("name") == "Main_OnCommand" and args[0] == ACTION_RENDER:
        return cfg.render_timeout_sec
    return cfg.call_timeout_sec


def _describe(step: dict[str, Any]) -> str:
    if step["step"] == "call":
        return f"the call {step['name']}{tuple(step.get('args') or ())}"
    if step["step"] in ("start", "import"):
        return "importing reapy"
    if step["step"] == "connect":
        return "connecting to REAPER"
    return f"the step after {step.get('name', step['step'])}"


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        if sys.platform.startswith("win"):
            proc.kill()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _src_root() -> str:
    """The folder holding the `chipline` package, so the child imports this same chipline."""
    return str(Path(__file__).resolve().parents[2])
