"""Sample quality of two models over several seeds: the default model against a chip-voice model.

`chipline eval` prints one seed's Yang–Lerch mean overlapping area; with 50 samples and a few
dozen held-out pieces per part, one seed moves by ±0.05. This runs `--seeds` seeds (samples,
real pieces and floor all reseeded) for each model against the same held-out pieces (the files
each part's dataset held out) and prints mean ± standard deviation over the seeds, the per-seed
difference of the two models and the standard error of its mean, so a decision between models
rests on more than one draw.

Two references. Each part alone (bach, folk, game): the models write all three styles, so
against one part a sample of another style counts as a miss, and the mean over the parts moves
when a model writes more of one style and less of another. The mix: the held-out pieces of all
parts in the training mix's shares, the reference a model of the whole mix is asked to match.
The row "real training pieces" is what a perfect sampler of the training mix would score: the
training split's own pieces, drawn in the mix's shares, in place of a model's samples.

    python bench/quality.py --model src/chipline/models/default \\
        --model src/chipline/models/chipvoice --seeds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from chipline.dataset import load_dataset
from chipline.evaluate import generated_pieces, load_scored_model, real_pieces, sample_quality
from chipline.yanglerch import Piece

MIX = {"bach": 0.35, "folk": 0.35, "game": 0.30}  # the default models' token shares (Makefile)
PARTS = tuple(MIX)
REAL = "real training pieces"


def held_out(corpus: Path, data: Path, part: str) -> list[Path]:
    held = set(load_dataset(data / part).meta.get("eval_files", []))
    return [f for f in sorted((corpus / part).glob("*.mid")) if f.name in held]


def mixed(files: dict[str, list[Path]], total: int, steps: int, seed: int) -> list[Piece]:
    """About `total` pieces of `files`' parts in the mix's shares, in a seeded order."""
    pieces = [
        piece
        for part, share in MIX.items()
        for piece in real_pieces(files[part], steps, round(share * total), seed)
    ]
    order = np.random.default_rng(seed).permutation(len(pieces))
    return [pieces[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--data", type=Path, default=Path("build/data"), help="polyphony datasets")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--num-samples", type=int, default=50)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=1.0, help="make samples at 0.9")
    parser.add_argument("--pitch-temperature", type=float, help="pitches [temperature]")
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    nets = {str(m): load_scored_model(m) for m in args.model}
    files = {p: held_out(args.corpus, args.data, p) for p in PARTS}
    train = {p: sorted(set((args.corpus / p).glob("*.mid")) - set(files[p])) for p in PARTS}
    # As many held-out pieces as the scarcest part allows in its share.
    pooled = min(int(len(files[p]) / share) for p, share in MIX.items())
    columns = (*PARTS, "mix")
    scores = {m: {c: [] for c in columns} for m in (*nets, REAL)}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        samples = {m: generated_pieces(n, args.num_samples, args.steps, seed, args.temperature,
                                       args.pitch_temperature)
                   for m, n in nets.items()}  # fmt: skip
        samples[REAL] = mixed(train, args.num_samples, args.steps, 1000 + seed)
        references = {p: real_pieces(files[p], args.steps, 2 * args.num_samples, seed)
                      for p in PARTS}  # fmt: skip
        references["mix"] = mixed(files, pooled, args.steps, seed)
        for column, real in references.items():
            for m, pieces in samples.items():
                scores[m][column].append(sample_quality(real, pieces, seed)["model"]["mean"])
    print(f"Yang-Lerch mean overlapping area, {args.seeds} seeds x {args.num_samples} samples of "
          f"{args.steps} 16th steps at T={args.temperature}, pitches at "
          f"{args.pitch_temperature or args.temperature} (mean ± sd over seeds); mix: "
          f"{pooled} held-out pieces")  # fmt: skip
    print(f"  {'model':36s} " + " ".join(f"{c:>13s}" for c in columns) + f" {'parts':>7s}")
    for m, rows in scores.items():
        cells = " ".join(f"{np.mean(v):6.3f} ± {np.std(v):.3f}" for v in rows.values())
        print(f"  {m:36s} {cells} {np.mean([np.mean(rows[p]) for p in PARTS]):7.3f}")
    if len(nets) == 2:
        first, second = (scores[m] for m in nets)
        diffs = {c: np.subtract(second[c], first[c]) for c in columns}
        cells = " ".join(f"{d.mean():+6.3f} ± {d.std():.3f}" for d in diffs.values())
        parts = np.mean([diffs[p] for p in PARTS], axis=0)  # per seed, over the parts
        print(f"  {'second - first, per seed':36s} {cells} {parts.mean():+7.3f}")
        for name, d in (("mean over the parts", parts), ("mix", diffs["mix"])):
            error = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
            print(f"  {name}: difference {d.mean():+.3f}, standard error {error:.3f} "
                  f"({d.size} seeds)")  # fmt: skip
    print(f"wall {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
