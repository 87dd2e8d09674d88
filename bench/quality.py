"""Sample quality of two models over several seeds: the default model against a chip-voice model.

`chipline eval` prints one seed's Yang–Lerch mean overlapping area; with 50 samples and a few
dozen held-out pieces per part, one seed moves by ±0.05. This runs `--seeds` seeds (samples,
real halves and floor all reseeded) for each model against the same held-out pieces of each
part (the files the part's dataset held out) and prints mean ± standard deviation per part, the
per-seed difference and the standard error of its mean over the parts, so a decision between
models rests on more than one draw.

    python bench/quality.py --model src/chipline/models/default \\
        --model bench/models/chipvoice-2x128 --seeds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from chipline.dataset import load_dataset
from chipline.evaluate import generated_pieces, load_scored_model, real_pieces, sample_quality

PARTS = ("bach", "folk", "game")


def held_out(corpus: Path, data: Path, part: str) -> list[Path]:
    held = set(load_dataset(data / part).meta.get("eval_files", []))
    return [f for f in sorted((corpus / part).glob("*.mid")) if f.name in held]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--data", type=Path, default=Path("build/data"), help="polyphony datasets")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--num-samples", type=int, default=50)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=1.0, help="make samples at 0.9")
    args = parser.parse_args()
    t0 = time.perf_counter()
    nets = {str(m): load_scored_model(m) for m in args.model}
    files = {p: held_out(args.corpus, args.data, p) for p in PARTS}
    scores = {m: {p: [] for p in PARTS} for m in nets}
    for seed in range(args.seeds):
        samples = {m: generated_pieces(n, args.num_samples, args.steps, seed, args.temperature)
                   for m, n in nets.items()}  # fmt: skip
        for part in PARTS:
            real = real_pieces(files[part], args.steps, 2 * args.num_samples, seed)
            for m in nets:
                scores[m][part].append(sample_quality(real, samples[m], seed)["model"]["mean"])
    print(f"Yang-Lerch mean overlapping area, {args.seeds} seeds x {args.num_samples} samples of "
          f"{args.steps} 16th steps at T={args.temperature} (mean ± sd over seeds)")  # fmt: skip
    print(f"  {'model':36s} " + " ".join(f"{p:>13s}" for p in PARTS) + f" {'mean':>7s}")
    for m, rows in scores.items():
        cells = " ".join(f"{np.mean(v):6.3f} ± {np.std(v):.3f}" for v in rows.values())
        print(f"  {m:36s} {cells} {np.mean([np.mean(v) for v in rows.values()]):7.3f}")
    if len(nets) == 2:
        first, second = scores.values()
        diffs = [np.subtract(second[p], first[p]) for p in PARTS]
        cells = " ".join(f"{d.mean():+6.3f} ± {d.std():.3f}" for d in diffs)
        mean = np.mean(diffs, axis=0)  # per seed, over the parts
        error = mean.std(ddof=1) / np.sqrt(mean.size) if mean.size > 1 else float("nan")
        print(f"  {'second - first, per seed':36s} {cells} {mean.mean():+7.3f}")
        print(f"  mean difference {mean.mean():+.3f}, standard error {error:.3f} "
              f"({mean.size} seeds)")  # fmt: skip
    print(f"wall {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
