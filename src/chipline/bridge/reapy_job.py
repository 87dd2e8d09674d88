"""The reapy side of one render job, run in a child process by `reapy_backend` (never imported).

`python -m chipline.bridge.reapy_job` reads the job (JSON) on stdin, imports reapy, connects to
REAPER and runs the whole job as raw ReaScript calls in one `inside_reaper()` block. It prints one
JSON line before and after each step, so the parent can time out any step that hangs and kill
this process: reapy's own sockets wait forever for an answer, and its import can recurse.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

ACTION_NEW_TAB = 40859
ACTION_CLOSE_TAB = 40860
ACTION_RENDER = 42230  # render with the project's settings, auto-close the render window
PROJECT_IS_CURRENT = -1


class JobFailed(Exception):
    """The job cannot go on; the message says why. `transient`: a later try may succeed."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def connect(job: dict[str, Any]) -> Any:
    """Import reapy, point it at REAPER's web interface and connect; returns `reapy`."""
    emit(step="import")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Can't reach distant API" until we reconnect below
        import reapy
        import reapy.config

        emit(step="connect")
        reapy.config.WEB_INTERFACE_PORT = int(job["web_port"])
        if job["host"] in ("localhost", None):
            reapy.reconnect()
        else:
            reapy.connect(job["host"])
    if not reapy.dist_api_is_enabled():
        raise JobFailed(
            f"REAPER is not reachable through reapy (web interface {job['host']}:{job['web_port']}"
            "). Start REAPER; if it is running, enable reapy once with reapy.configure_reaper() "
            "and restart REAPER.",
            transient=True,
        )
    return reapy


def run(job: dict[str, Any]) -> None:
    reapy = connect(job)
    api = reapy.reascript_api

    def call(name: str, *args: Any) -> Any:
        emit(step="call", name=name, args=list(args))
        value = getattr(api, name)(*args)
        emit(step="done", name=name)
        return value

    with reapy.inside_reaper():
        call("Main_OnCommand", ACTION_NEW_TAB, 0)  # the user's open project stays untouched
        call("Main_openProject", "noprompt:" + job["project"])
        proj = call("EnumProjects", PROJECT_IS_CURRENT, "", 512)[0]
        if call("GetProjectLength", proj) <= 0:
            raise JobFailed("the job's project is empty (REAPER would say 'Nothing to render!')")
        names = []
        for index in range(call("CountTracks", proj)):
            track = call("GetTrack", proj, index)
            names.append(call("GetSetMediaTrackInfo_String", track, "P_NAME", "", False)[3])
        missing = [name for name in job["tracks"] if name not in names]
        if missing:
            raise JobFailed(f"REAPER opened the project without track(s) {missing}; found {names}")
        call("GetSetProjectInfo_String", proj, "RENDER_FILE", job["output_dir"], True)
        call("GetSetProjectInfo_String", proj, "RENDER_PATTERN", job["output_name"], True)
        call("GetSetProjectInfo", proj, "RENDER_BOUNDSFLAG", 1, True)  # entire project
        call("Main_OnCommand", ACTION_RENDER, 0)
        call("Main_openProject", "noprompt:" + job["empty_project"])  # never asks to be saved
        call("Main_OnCommand", ACTION_CLOSE_TAB, 0)


def main() -> int:
    job = json.loads(sys.stdin.read())
    try:
        run(job)
    except JobFailed as e:
        emit(step="failed", message=str(e), transient=e.transient)
        return 1
    except RecursionError:
        emit(
            step="failed",
            transient=True,
            message="reapy recursed while connecting: REAPER's web interface answers but the "
            "reapy server never starts (Python not enabled in REAPER, or its server script "
            "fails). Enable Python in REAPER (Preferences > Plug-ins > ReaScript), run "
            "reapy.configure_reaper() and restart REAPER.",
        )
        return 1
    except Exception as e:  # noqa: BLE001 - reapy raises DistError, socket and attribute errors
        last = str(e).strip().splitlines()[-1:] or [type(e).__name__]
        emit(step="failed", message=f"{type(e).__name__}: {last[0]}", transient=False)
        return 1
    emit(step="finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
