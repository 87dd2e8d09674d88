"""`chipline make --tracks 8 --bars 16` wall and CPU time, against rendering the same 8 MIDI files.

    python bench/make.py [--tracks 8] [--bars 16] [--repeat 3]

The reference, measured in the same run: `chipline render` of the 8 generated MIDI files (the
same arrangement, synthesis, loop, loudness and writing, no generation). Each is the best of
--repeat runs, in fresh folders; the load average is printed because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SEC = 10.0


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `cmd`."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    chipline = [sys.executable, "-m", "chipline", "-q"]
    make_runs, render_runs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        for k in range(args.repeat):
            out = Path(tmp) / f"make{k}"
            make_runs.append(
                timed(
                    [
                        *chipline,
                        "make",
                        "--out",
                        str(out),
                        "--tracks",
                        str(args.tracks),
                        "--bars",
                        str(args.bars),
                    ]
                )
            )
            sources = sorted((out / "source").glob("*.mid"))
            copy = Path(tmp) / f"render{k}"
            render_runs.append(
                timed(
                    [
                        *chipline,
                        "render",
                        *map(str, sources),
                        "--out",
                        str(copy),
                        "--formats",
                        "ogg",
                    ]
                )
            )
            shutil.rmtree(copy)
    make_wall, make_cpu = min(make_runs)
    render_wall, render_cpu = min(render_runs)
    load = os.getloadavg()[0]
    print(
        f"chipline make --tracks {args.tracks} --bars {args.bars} (OGG, best of {args.repeat}):"
        f" {make_wall:.2f} s wall, {make_cpu:.2f} s CPU; target <= {TARGET_SEC:.0f} s wall"
    )
    print(
        f"reference: chipline render of the same {args.tracks} MIDI files: "
        f"{render_wall:.2f} s wall, {render_cpu:.2f} s CPU"
    )
    print(
        f"ratio make / render: {make_wall / render_wall:.2f} wall, "
        f"{make_cpu / render_cpu:.2f} CPU; load average {load:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
