"""STAND-IN for the `reaper` executable, for tests only. It is not REAPER and renders no music.

It checks the command line chipline builds, reads the project with the independent `rpp`
library, and then, as FAKE_REAPER_MODE says, writes a placeholder WAV where the project's render
settings point (a marker ramp, never audio for a test to judge), exits with an error, writes
nothing, writes garbage, or hangs. Like REAPER, it stalls (waits forever, as behind a modal
"overwrite?" dialog) if the target file already exists. Every call is appended to FAKE_REAPER_LOG.
"""

from __future__ import annotations

import array
import json
import os
import sys
import time
import wave
from pathlib import Path

import rpp


def write_marker(path: Path, num_samples: int, sample_rate: int) -> None:
    """The placeholder written instead of audio: a slow ramp (16-bit stereo), (i % 1000) * 8."""
    frames = array.array("h", (v for i in range(num_samples) for v in ((i % 1000) * 8,) * 2))
    with wave.open(str(path), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(frames.tobytes())


def project_length_sec(root) -> float:
    lengths = [float(item.find("LENGTH")[1]) for item in root.iter("ITEM")]
    return max(lengths, default=0.0)


def main(argv: list[str]) -> int:
    mode = os.environ.get("FAKE_REAPER_MODE", "render")
    log = os.environ.get("FAKE_REAPER_LOG")
    if "-renderproject" not in argv:
        print("fake reaper: only -renderproject is supported", file=sys.stderr)
        return 2
    root = rpp.loads(Path(argv[argv.index("-renderproject") + 1]).read_text())
    tracks = [str(t.find("NAME")[1]) for t in root.findall("TRACK") if t.find("NAME")]
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": argv, "pid": os.getpid(), "tracks": tracks}) + "\n")
    out_dir = Path(root.find("RENDER_FILE")[1])
    rate = int(root.find("RENDER_FMT")[3])
    tail_ms = int(root.find("RENDER_RANGE")[5])
    target = out_dir / (root.find("RENDER_PATTERN")[1] + ".wav")
    print(f"fake reaper: rendering to {target}")
    if target.exists() or mode == "hang":
        print("fake reaper: waiting (a dialog would be open now)", flush=True)
        time.sleep(3600)
    if mode == "fail":
        print("fake reaper: cannot load plug-in", file=sys.stderr)
        return 3
    if mode == "nothing":
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    if mode == "garbage":
        target.write_bytes(b"this is not a wav file")
        return 0
    seconds = project_length_sec(root) + tail_ms / 1000
    if mode == "short":
        seconds = 0.05
    write_marker(target, round(seconds * rate), rate)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
