"""`chipline make --tracks 8 --bars 16` wall time, against rendering the same 8 MIDI files.

    python bench/make.py [--tracks 8] [--bars 16] [--repeat 3]

Rows: `chipline make` as is (one process: wall and CPU), `chipline make --workers 2` (two
render processes; their CPU time is not counted, they are not our children), and the reference
measured in the same run: `chipline render` of the generated MIDI files (the same arrangement,
synthesis, loop, loudness and writing, no generation). Each is the best of --repeat runs in
fresh folders; the load average is printed because the machine is shared.
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
    runs: dict[str, list[tuple[float, float]]] = {"make": [], "make2": [], "render": []}
    size = ["--tracks", str(args.tracks), "--bars", str(args.bars)]
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        for k in range(args.repeat):
            out = Path(tmp) / f"make{k}"
            runs["make"].append(timed([*chipline, "make", "--out", str(out), *size]))
            one = Path(tmp) / f"one{k}"
            two = [*chipline, "make", "--out", str(one), *size, "--workers", "2"]
            runs["make2"].append(timed(two))
            sources = sorted((out / "source").glob("*.mid"))
            copy = Path(tmp) / f"render{k}"
            files = [str(p) for p in sources]
            runs["render"].append(
                timed([*chipline, "render", *files, "--out", str(copy), "--formats", "ogg"])
            )
            for folder in (out, one, copy):
                shutil.rmtree(folder)
    (make_wall, make_cpu), (two_wall, _), (ref_wall, ref_cpu) = (min(runs[k]) for k in runs)
    print(
        f"chipline make {' '.join(size)} (OGG, best of {args.repeat}): {make_wall:.2f} s wall, "
        f"{make_cpu:.2f} s CPU (target <= {TARGET_SEC:.0f} s wall); ratio to render "
        f"{make_wall / ref_wall:.2f} wall, {make_cpu / ref_cpu:.2f} CPU"
    )
    print(f"  with --workers 2: {two_wall:.2f} s wall; ratio to render {two_wall / ref_wall:.2f}")
    print(
        f"reference: chipline render of the same {args.tracks} MIDI files: "
        f"{ref_wall:.2f} s wall, {ref_cpu:.2f} s CPU"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
