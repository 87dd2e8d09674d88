"""Generation benchmark: the seed's command, 10 outputs x 128 steps from a 3x128 LSTM.

Magenta 2.1.4's polyphony_rnn_generate took about 15.5 s for this on this machine (a fixed
reference figure). Each chipline figure is the whole command in a fresh interpreter, the best
of `--repeat` runs; the interpreter's own start-up and `import chipline.cli` are measured in the
same run. The model has random weights with a STEP_END bias that gives about 3.8 events per
16th step (four-part chorales give 3 to 5); Magenta's real fixture model is timed as well.

    python bench/generate.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from chipline.model.checkpoint import expected_shapes, model_config, save_model

MAGENTA_SEC = 15.5
ROOT = Path(__file__).resolve().parents[1]
SEED_FLAGS = [
    "--num_outputs=10",
    "--num_steps=128",
    "--primer_melody=[20]",
    "--condition_on_primer=true",
    "--inject_primer_during_generation=false",
    "--seed=0",
]


def random_model(path: Path) -> Path:
    config = model_config([128, 128, 128], 259, 0.5)
    rng = np.random.default_rng(0)
    weights = {
        name: (rng.standard_normal(shape) * 0.1).astype(np.float32)
        for name, shape in expected_shapes(config).items()
    }
    weights["head.bias"][2] += 2.0
    return save_model(path, config, weights)


def wall(argv: list[str], repeat: int) -> tuple[float, float, float]:
    """Best and median wall seconds, and best CPU seconds, of running `argv` `repeat` times.

    CPU time (user + system of the child) shows the work done even when other jobs share the
    cores and stretch the wall time.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return min(times), statistics.median(times), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "CHIPLINE_SHARED_DATA", ROOT.parent / "shared" / "data")))  # fmt: skip
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        model = random_model(Path(tmp) / "model")
        generate = [py, "-m", "chipline", "generate", f"--model={model}", f"--output_dir={tmp}/out"]
        runs = {
            "python start-up (python -c pass)": [py, "-c", "pass"],
            "python -c 'import chipline.cli'": [py, "-c", "import chipline.cli"],
            "seed's command (sampling)": [*generate, *SEED_FLAGS],
            "seed's command + --beam_size=4 --branch_factor=2": [
                *generate, *SEED_FLAGS, "--beam_size=4", "--branch_factor=2"],
        }  # fmt: skip
        bundle = args.data / "magenta-fixture" / "polyphony_128x3.mag"
        if bundle.is_file():
            runs["seed's command on Magenta's own .mag (3x128)"] = [
                py, "-m", "chipline", "generate", f"--bundle_file={bundle}",
                f"--output_dir={tmp}/out", *SEED_FLAGS]  # fmt: skip
        figures = {}
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for name, argv in runs.items():
            best, median, cpu = wall(argv, args.repeat)
            figures[name] = best
            print(f"{name}: wall best {best:.3f} s, median {median:.3f} s; CPU {cpu:.3f} s")
        events = _events_per_step(Path(tmp) / "out")
    sampling = figures["seed's command (sampling)"]
    beam = figures["seed's command + --beam_size=4 --branch_factor=2"]
    print(f"generated: {events:.1f} events per 16th step on average")
    print(
        f"vs Magenta ({MAGENTA_SEC} s): sampling {MAGENTA_SEC / sampling:.0f}x faster "
        f"({sampling:.2f} s, target <= 0.5 s), beam 4x2 {MAGENTA_SEC / beam:.0f}x faster "
        f"({beam:.2f} s, target <= 2 s)"
    )


def _events_per_step(folder: Path) -> float:
    from chipline.encoding import polyphony
    from chipline.score import quantize, read_midi

    lengths = []
    for path in sorted(folder.glob("*.mid"))[:10]:
        song = quantize(read_midi(path))
        lengths.append(polyphony.encode(song, num_steps=song.end_tick).size / song.end_tick)
    return float(np.mean(lengths))


if __name__ == "__main__":
    main()
