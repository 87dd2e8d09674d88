"""The `reaper-live` back end: jobs rendered by a REAPER the user already has open.

The REAPER side is the Lua action "chipline: render queued job (live)" (`reaper_scripts/
chipline_live_render.lua`), a loop that watches `<resource folder>/chipline/queue`. We write the
job's `.rpp` (the same project as the `reaper` back end), drop `<id>.job` into the queue, and
wait, with our own timeout, for `<id>.result`. The loop touches `alive` on every poll; if it is
stale, REAPER's web interface (when configured) is asked to start the action.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline import atomic
from chipline.bridge.base import RenderRequest
from chipline.bridge.reaper import ReaperBackend, ReaperConfig, fit_length, read_render
from chipline.bridge.reaper_env import find_reaper
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import read_midi

logger = logging.getLogger(__name__)

ACTION_COMMAND = "_chipline_live_render"  # the command name install-actions registers
ALIVE_FILE = "alive"


@dataclass(frozen=True)
class LiveConfig:
    """Settings of the `reaper-live` back end (the `[reaper_live]` config table).

    `queue_dir` defaults to `<REAPER resource folder>/chipline/queue`. `web_url` is REAPER's web
    interface (e.g. `http://127.0.0.1:8080`), used only to start the action when it is not running;
    keep that interface on loopback, as anyone who reaches it can run REAPER actions.
    """

    queue_dir: Path | None = None
    timeout_sec: float = 300.0
    alive_max_age_sec: float = 5.0
    start_wait_sec: float = 10.0
    poll_sec: float = 0.1
    web_url: str | None = None


class LiveBackend:
    """Hands each job to the chipline action running inside an open REAPER."""

    name = "reaper-live"

    def __init__(self, cfg: LiveConfig | None = None, reaper: ReaperConfig | None = None) -> None:
        self.cfg = cfg or LiveConfig()
        self.reaper = reaper or ReaperConfig()

    def queue_dir(self) -> Path:
        if self.cfg.queue_dir is not None:
            return self.cfg.queue_dir
        resource = find_reaper(self.reaper.reaper_path).resource_dir
        if resource is None:
            raise BridgeError(
                "REAPER's resource folder was not found, so the live job queue is unknown: "
                "set queue_dir in the [reaper_live] config to <resource folder>/chipline/queue."
            )
        return resource / "chipline" / "queue"

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        """Render `request` in the running REAPER: float32, (num_samples, 2), in [-1, 1]."""
        song = read_midi(request.arranged_midi)
        work = request.work_dir.resolve()  # REAPER reads these paths from its own folder
        project_cfg = self.reaper.project_config(work / "reaper", request.sample_rate)
        job = ReaperBackend(self.reaper).write_job(song, project_cfg, work / "job.rpp")
        queue = self.queue_dir()
        self.ensure_running(queue)
        message = run_job(queue, job, project_cfg.output_path, self.cfg)
        audio = read_render(
            project_cfg.output_path, song.duration_sec, self.reaper.tail_sec,
            request.sample_rate, message,
        )  # fmt: skip
        return fit_length(audio, request.num_samples)

    def ensure_running(self, queue: Path) -> None:
        """Make sure the action's loop runs, starting it through the web interface if we can.

        Raises:
            BridgeError: (transient) it is not running and could not be started.
        """
        if is_alive(queue, self.cfg.alive_max_age_sec):
            return
        if self.cfg.web_url:
            start_action(self.cfg.web_url, self.cfg.poll_sec * 20)
            deadline = time.monotonic() + self.cfg.start_wait_sec
            while time.monotonic() < deadline:
                if is_alive(queue, self.cfg.alive_max_age_sec):
                    return
                time.sleep(self.cfg.poll_sec)
        raise BridgeError(
            f"the chipline action is not running in REAPER (no recent {queue / ALIVE_FILE}). "
            "In REAPER, run the action 'chipline: render queued job (live)' (install it with "
            "`chipline reaper install-actions`), or set web_url in [reaper_live] to REAPER's "
            "web interface so chipline can start it.",
            transient=True,
        )


def is_alive(queue: Path, max_age_sec: float) -> bool:
    """True when the action touched its `alive` file within `max_age_sec`."""
    try:
        return time.time() - (queue / ALIVE_FILE).stat().st_mtime <= max_age_sec
    except FileNotFoundError:
        return False


def start_action(web_url: str, timeout_sec: float) -> None:
    """Ask REAPER's web interface to run the live action (`GET /_/<command>`)."""
    url = f"{web_url.rstrip('/')}/_/{ACTION_COMMAND}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_sec) as response:
            response.read()
    except (urllib.error.URLError, OSError) as e:
        logger.warning("could not start the live action through %s: %s", url, e)


def run_job(queue: Path, project: Path, output: Path, cfg: LiveConfig) -> str:
    """Queue one job and wait for its result; returns the action's message.

    Raises:
        BridgeTimeout: no result within `cfg.timeout_sec` (a job not yet taken is withdrawn).
        BridgeError: the action reported an error.
    """
    queue.mkdir(parents=True, exist_ok=True)
    job_id = uuid.uuid4().hex
    job_file = queue / f"{job_id}.job"
    result_file = queue / f"{job_id}.result"
    atomic.write_text(job_file, f"project={project}\noutput={output}\n")
    deadline = time.monotonic() + cfg.timeout_sec
    while not result_file.is_file():
        if time.monotonic() >= deadline:
            return _withdraw(job_file, queue / f"{job_id}.taken", cfg.timeout_sec)
        time.sleep(cfg.poll_sec)
    status, _, message = result_file.read_text(encoding="utf-8").partition("\n")
    result_file.unlink()
    if status.strip() != "ok":
        raise BridgeError(f"REAPER could not render {project}: {message.strip()}", transient=True)
    return message.strip()


def _withdraw(job_file: Path, taken: Path, timeout_sec: float) -> str:
    try:
        job_file.unlink()
        state = "never took the job (withdrawn)"
    except FileNotFoundError:
        state = "took the job but did not finish it" if taken.exists() else "lost the job"
    raise BridgeTimeout(
        f"REAPER {state} within {timeout_sec:g} s. A dialog may be open in REAPER; "
        "close it, and check the chipline action is running."
    )
