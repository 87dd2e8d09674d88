"""The `reaper` back end: one `.rpp` per job, rendered by `reaper -renderproject` in a subprocess.

Needs no running REAPER and no Python inside REAPER. REAPER still opens its window while it
renders, so on Linux without a display it runs under `xvfb-run`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soundfile as sf

from chipline.bridge.base import RenderRequest
from chipline.bridge.project import ProjectConfig, default_template, write_project
from chipline.bridge.reaper_env import find_reaper
from chipline.bridge.reaper_lock import default_lock_path, reaper_lock
from chipline.errors import BridgeError, BridgeTimeout
from chipline.score import Song, read_midi

logger = logging.getLogger(__name__)

OUTPUT_TAIL_CHARS = 4000  # how much of REAPER's own output goes into an error message
MIN_DURATION_RATIO = 0.9  # a render shorter than this share of the song is a failed render
MAX_EXTRA_SEC = 10.0  # ... and one longer than song + tail + this is not ours


@dataclass(frozen=True)
class ReaperConfig:
    """Settings of the REAPER back ends (the `[reaper]` config table).

    `cfgfile` runs REAPER with an isolated profile (`-cfgfile`), e.g. one whose preferences
    never prompt. `xvfb`: "auto" wraps REAPER in `xvfb-run` on Linux when $DISPLAY is unset.
    Renders wait for each other (`lock_file`), at most `timeout_sec`.
    """

    reaper_path: Path | None = None
    template: Path | None = None
    timeout_sec: float = 300.0
    tail_sec: float = 1.0
    track_names: Mapping[str, str] = field(default_factory=dict)
    cfgfile: Path | None = None
    xvfb: Literal["auto", "always", "never"] = "auto"
    lock_file: Path | None = None  # None: chipline-reaper.lock in the system's temp folder

    def project_config(self, output_dir: Path, sample_rate: int) -> ProjectConfig:
        return ProjectConfig(
            output_dir=output_dir,
            output_name="render",
            render_format="wav",
            sample_rate=sample_rate,
            tail_sec=self.tail_sec,
            track_names=self.track_names,
        )


def reaper_command(
    exe: Path, project: Path, cfg: ReaperConfig, env: Mapping[str, str] | None = None
) -> list[str]:
    """The argv that renders `project` and exits (under `xvfb-run` where there is no display).

    Raises:
        BridgeError: a virtual display is needed but `xvfb-run` is not installed.
    """
    env = os.environ if env is None else env
    argv = [str(exe), "-nosplash", "-ignoreerrors", "-newinst"]
    if cfg.cfgfile is not None:
        argv += ["-cfgfile", str(cfg.cfgfile)]
    argv += ["-renderproject", str(project)]
    headless = sys.platform.startswith("linux") and not env.get("DISPLAY")
    if cfg.xvfb == "always" or (cfg.xvfb == "auto" and headless):
        xvfb = shutil.which("xvfb-run", path=env.get("PATH"))
        if xvfb is None:
            raise BridgeError(
                "REAPER needs a display to render and there is none ($DISPLAY is unset): "
                "install xvfb (`apt-get install xvfb`) so chipline can run it under xvfb-run, "
                "or run chipline inside a desktop session."
            )
        argv = [xvfb, "-a", *argv]
    return argv


def run_reaper(argv: list[str], timeout_sec: float, cwd: Path) -> tuple[int, str]:
    """Run REAPER to completion; returns (exit code, its output, stdout and stderr together).

    Raises:
        BridgeTimeout: it ran past `timeout_sec`; it and its children are killed.
    """
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout kills xvfb-run's children
        )
    except OSError as e:
        raise BridgeError(f"cannot start REAPER ({argv[0]}): {e.strerror or e}") from e
    try:
        out, _ = proc.communicate(timeout=timeout_sec)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, _ = proc.communicate()
        raise BridgeTimeout(
            f"REAPER did not finish rendering within {timeout_sec:g} s and was stopped "
            f"(command: {' '.join(argv)}). A dialog may be waiting in REAPER (missing plug-in, "
            f"prompt); REAPER's output:\n{_tail(out)}"
        ) from None
    return proc.returncode, out.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if sys.platform.startswith("win"):
        proc.kill()
        return
    with contextlib.suppress(ProcessLookupError):  # it may have exited just now
        os.killpg(proc.pid, signal.SIGKILL)


def _tail(out: bytes | str) -> str:
    text = out.decode("utf-8", errors="replace") if isinstance(out, bytes) else out
    text = text.strip()
    return (
        ("..." + text[-OUTPUT_TAIL_CHARS:]) if len(text) > OUTPUT_TAIL_CHARS else text or "(none)"
    )


def remove_stale_outputs(cfg: ProjectConfig) -> None:
    """Delete earlier renders of this job so REAPER can never ask whether to overwrite them."""
    if cfg.output_dir.is_dir():
        for old in cfg.output_dir.glob(f"{cfg.output_name}.*"):
            old.unlink()


def read_render(
    path: Path, song_sec: float, tail_sec: float, sample_rate: int, output: str
) -> npt.NDArray[np.float32]:
    """Decode REAPER's render and check it is plausibly ours.

    Returns float32, shape (num_samples, num_channels), in [-1, 1].

    Raises:
        BridgeError: missing (transient), undecodable, wrong sample rate or implausible duration.
    """
    if not path.is_file() or path.stat().st_size == 0:
        raise BridgeError(
            f"REAPER rendered nothing: {path} is missing or empty. "
            f"REAPER's output:\n{_tail(output)}",
            transient=True,
        )
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise BridgeError(f"{path}: REAPER's render cannot be decoded ({e})") from e
    if rate != sample_rate:
        raise BridgeError(f"{path}: rendered at {rate} Hz, expected {sample_rate} Hz")
    duration_sec = len(audio) / rate
    low, high = song_sec * MIN_DURATION_RATIO, song_sec + tail_sec + MAX_EXTRA_SEC
    if not low <= duration_sec <= high:
        raise BridgeError(
            f"{path}: REAPER's render lasts {duration_sec:.2f} s, expected {song_sec:.2f} s "
            f"plus a tail of up to {tail_sec:g} s. REAPER's output:\n{_tail(output)}",
            transient=True,
        )
    return audio


def fit_length(audio: npt.NDArray[np.float32], num_samples: int) -> npt.NDArray[np.float32]:
    """Trim or zero-pad along axis 0 to `num_samples`; mono stays 1-D."""
    audio = audio[:num_samples]
    if len(audio) < num_samples:
        pad = [(0, num_samples - len(audio))] + [(0, 0)] * (audio.ndim - 1)
        audio = np.pad(audio, pad)
    return audio[:, 0].copy() if audio.ndim == 2 and audio.shape[1] == 1 else audio


class ReaperBackend:
    """Renders each job in a fresh REAPER process (`reaper -renderproject job.rpp`)."""

    name = "reaper"

    def __init__(self, cfg: ReaperConfig = ReaperConfig()) -> None:
        self.cfg = cfg

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        """Render `request` through REAPER: float32, (num_samples, 2), in [-1, 1]."""
        song = read_midi(request.arranged_midi)
        work = request.work_dir.resolve()  # REAPER reads these paths from its own folder
        project_cfg = self.cfg.project_config(work / "reaper", request.sample_rate)
        job = self.write_job(song, project_cfg, work / "job.rpp")
        exe = find_reaper(self.cfg.reaper_path).executable
        argv = reaper_command(exe, job, self.cfg)
        logger.info("rendering %s with REAPER: %s", request.arranged_midi, " ".join(argv))
        lock = self.cfg.lock_file or default_lock_path()
        with reaper_lock(lock, self.cfg.timeout_sec):  # one REAPER instance at a time
            code, output = run_reaper(argv, self.cfg.timeout_sec, work)
        if code != 0 and not project_cfg.output_path.is_file():
            raise BridgeError(
                f"REAPER exited with code {code} and rendered nothing for {job}. "
                f"REAPER's output:\n{_tail(output)}",
                transient=True,
            )
        audio = read_render(
            project_cfg.output_path,
            song.duration_sec,
            self.cfg.tail_sec,
            request.sample_rate,
            output,
        )
        return fit_length(audio, request.num_samples)

    def write_job(self, song: Song, project_cfg: ProjectConfig, path: Path) -> Path:
        """Write the job's project and clear earlier renders of it."""
        template = self.cfg.template or default_template()
        write_project(template, song, project_cfg, path)
        remove_stale_outputs(project_cfg)
        return path
