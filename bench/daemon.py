"""The watch daemon's overhead and latency, against rendering directly, in the same run.

    PYTHONPATH=src python bench/daemon.py [--num-files 500] [--workers N] [--latency-runs 7]

1. Drain: drop `--num-files` short MIDI files (the smallest distinct tunes of the folk corpus)
   into an idle daemon's inbox at once; time until every one is done or failed. Reference: the
   same files rendered by `render_file` in a spawn pool of the same size (warm workers), then
   one manifest refresh. Overhead = daemon / direct - 1 (target <= 20 %).
2. Latency: write one 30-s track into the idle daemon's inbox (open, write, close, as a
   generator does); time until its audio is in the output folder. Reference: `render_file` of
   the same track in this process. Target p50 <= 1.5 s, stability wait included.

Both use a light render setting (WAV only, 8 kHz, no piano roll) so the run takes minutes on two
shared cores; what is measured is the daemon around the renderer, not the renderer.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import mido

from chipline.daemon import Daemon, DaemonConfig, Layout
from chipline.daemon.jobs import RenderJob, manifest_refresher
from chipline.daemon.queue import JobQueue
from chipline.render import RenderConfig, render_file

CONFIG = RenderConfig(formats=("wav",), pianoroll=False, sample_rate=8000)
DATA = Path(os.environ.get("CHIPLINE_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))


def pick_files(num_files: int) -> list[Path]:
    """The smallest `num_files` distinct folk tunes that render."""
    picked, seen = [], set()
    folk = sorted((DATA / "midi" / "folk").glob("*.mid"), key=lambda p: (p.stat().st_size, p.name))
    for path in folk:
        digest = hashlib.sha256(path.read_bytes()).digest()
        if digest not in seen:
            seen.add(digest)
            picked.append(path)
        if len(picked) == num_files:
            return picked
    sys.exit(f"only {len(picked)} files in {DATA / 'midi' / 'folk'}")


def track_30_sec(seed: int) -> bytes:
    """A 30-s two-voice tune at 120 qpm (60 beats), different bytes per `seed` (0-79)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    for voice, (low, length) in enumerate(((60, 240), (36, 960))):
        track = mido.MidiTrack()
        mid.tracks.append(track)
        for i in range(60 * 480 // length):
            pitch = low + (seed * 5 + i * (3 + voice)) % 12
            velocity = 40 + seed % 80  # with the pitches: distinct bytes for seeds < 80
            track.append(
                mido.Message("note_on", note=pitch, velocity=velocity, channel=voice, time=0)
            )
            track.append(
                mido.Message("note_off", note=pitch, velocity=0, channel=voice, time=length)
            )
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def _render_one(args: tuple[Path, Path, str]) -> bool:
    try:
        render_file(args[0], args[1], CONFIG, name=args[2], refresh=False)
    except Exception:
        return False
    return True


def _warm(_: int) -> int:
    return os.getpid()


def _quiet() -> None:
    logging.basicConfig(level=logging.ERROR)


def direct(files: list[Path], out_dir: Path, workers: int) -> float:
    """Seconds to render `files` with a warm spawn pool of `workers`, plus one refresh."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_quiet) as pool:
        pool.map(_warm, range(workers * 4))  # start the workers (imports) before timing
        _render_one((files[0], out_dir / "warm", "warm"))
        start = time.perf_counter()
        jobs = [(p, out_dir, f"t{i}") for i, p in enumerate(files)]
        list(pool.imap_unordered(_render_one, jobs, chunksize=1))
        manifest_refresher()(out_dir)
        return time.perf_counter() - start


def finished(queue: JobQueue) -> int:
    c = queue.counts()
    return c["done"] + c["failed"] + c["skipped"]


def wait_for(predicate, timeout_sec: float = 900.0, poll_sec: float = 0.005) -> None:
    deadline = time.monotonic() + timeout_sec
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit("timed out")
        time.sleep(poll_sec)


def daemon_run(files: list[Path], root: Path, workers: int, latency_runs: int):
    layout = Layout(root / "inbox", root / "out")
    layout.inbox.mkdir(parents=True)
    daemon = Daemon(
        layout,
        DaemonConfig(num_workers=workers),
        RenderJob(CONFIG),
        after_delivery=manifest_refresher(),
    )
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        wait_for(lambda: daemon._queue is not None, 60)
        reader = JobQueue(layout.state_dir)
        (layout.inbox / "warm.mid").write_bytes(track_30_sec(79))  # workers warm, like direct
        wait_for(lambda: finished(reader) == 1)
        incoming = root / "incoming"
        incoming.mkdir()
        for p in files:
            shutil.copyfile(p, incoming / p.name)
        start, cpu_start = time.perf_counter(), time.process_time()
        for p in files:
            os.replace(incoming / p.name, layout.inbox / p.name)
        wait_for(lambda: finished(reader) == len(files) + 1, poll_sec=0.05)
        drain_sec = time.perf_counter() - start
        main_cpu_sec = time.process_time() - cpu_start  # the daemon's own process (+ this poll)
        latencies = []
        for seed in range(latency_runs):
            data, name = track_30_sec(seed), f"latency{seed}"
            target = layout.out_dir / f"{name}.wav"
            start = time.perf_counter()
            with open(layout.inbox / f"{name}.mid", "wb") as f:
                f.write(data)
            wait_for(target.exists, timeout_sec=120)
            latencies.append(time.perf_counter() - start)
        reader.close()
        return drain_sec, main_cpu_sec, latencies
    finally:
        daemon.request_stop()
        thread.join()


def direct_latency(root: Path, runs: int) -> list[float]:
    times = []
    for seed in range(runs):
        midi = root / f"direct{seed}.mid"
        midi.write_bytes(track_30_sec(seed))
        start = time.perf_counter()
        render_file(midi, root / "direct-out", CONFIG, name=f"d{seed}", refresh=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-files", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--latency-runs", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2, help="alternating rounds; best of each")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    files = pick_files(args.num_files)
    directs, drains, cpus = [], [], []
    with tempfile.TemporaryDirectory(prefix="chipline-bench-") as tmp:
        root = Path(tmp)
        for r in range(args.repeat):
            directs.append(direct(files, root / f"direct{r}", args.workers))
            last = r == args.repeat - 1
            runs = args.latency_runs if last else 0
            drain_sec, cpu_sec, latencies = daemon_run(
                files, root / f"daemon{r}", args.workers, runs
            )
            drains.append(drain_sec)
            cpus.append(cpu_sec)
            print(
                f"round {r + 1}: direct {directs[-1]:.2f} s, daemon {drain_sec:.2f} s",
                file=sys.stderr,
                flush=True,
            )
        render_sec = direct_latency(root, args.latency_runs)
    direct_sec, drain_sec, cpu_sec = min(directs), min(drains), min(cpus)
    p50, render_p50 = statistics.median(latencies), statistics.median(render_sec)
    n = len(files)
    print(
        f"{n} files, {args.workers} workers, load average {os.getloadavg()[0]:.1f}, "
        f"best of {args.repeat} alternating rounds"
    )
    print(
        f"direct render pool : {direct_sec:7.2f} s ({n / direct_sec:.1f} files/s); rounds "
        + ", ".join(f"{x:.1f}" for x in directs)
    )
    print(
        f"daemon drain       : {drain_sec:7.2f} s ({n / drain_sec:.1f} files/s); rounds "
        + ", ".join(f"{x:.1f}" for x in drains)
    )
    print(f"daemon main process: {cpu_sec:7.2f} s CPU ({1000 * cpu_sec / n:.1f} ms per file)")
    print(f"daemon overhead    : {100 * (drain_sec / direct_sec - 1):+6.1f} % (target <= 20 %)")
    print(
        f"latency, 30-s track: p50 {p50:.2f} s, min {min(latencies):.2f} s, "
        f"max {max(latencies):.2f} s (target p50 <= 1.5 s)"
    )
    print(
        f"  render alone     : p50 {render_p50:.2f} s; daemon adds {p50 - render_p50:.2f} s "
        f"(stability wait + dispatch + delivery)"
    )


if __name__ == "__main__":
    main()
