"""How strongly a chip-voice model must be pushed to the asked key: `key_bias` against key found.

`chipline make` adds `key_bias` nats to the logits of the tonic (and 0.75, 0.5 of it to the
third and fifth) on top of keeping pitches in the key's scale. This generates `--pieces` pieces
of 16 bars per bias, in four keys in turn (A minor, C major, D major, E minor; loop, one
last-bar candidate, make's temperature 0.9), and reports how many a key estimate (Krumhansl-
Kessler over pitched notes weighted by length) hears in the asked key, and the mean pitch-class
entropy of the pieces (bits over note counts; the real chorales have 2.90, the fiddle tunes 2.58).

    python bench/keybias.py --model src/chipline/models/chipvoice
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from chipline.chip import VOICES
from chipline.encoding import chipvoice as cv
from chipline.generate.chipvoice import Controls, generate
from chipline.keys import estimate_key, parse_key
from chipline.make_chipvoice import load_chipvoice_model

KEYS = ("A minor", "C major", "D major", "E minor")


def entropy_bits(pitches: list[int]) -> float:
    counts = np.bincount(np.asarray(pitches) % 12, minlength=12).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--pieces", type=int, default=24)
    parser.add_argument("--bias", type=float, action="append", help="[0, 0.5, 1, 2]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    model = load_chipvoice_model(args.model)
    print(f"{'key_bias':>8s} {'key found':>10s} {'pc entropy':>10s}")
    for bias in args.bias or [0.0, 0.5, 1.0, 2.0]:
        rng = np.random.default_rng(args.seed)
        found, entropies = 0, []
        for i in range(args.pieces):
            key = parse_key(KEYS[i % len(KEYS)])
            controls = Controls(key=key, num_bars=16, key_bias=bias, num_candidates=1,
                                temperature=0.9)  # fmt: skip
            (tokens,) = generate(model, controls, 1, rng)
            notes = [n for n in cv.decode(tokens).notes if VOICES[n.voice].kind != "noise"]
            pitches = [n.pitches[0] for n in notes]
            lengths = [n.end_tick - n.start_tick for n in notes]
            found += bool(pitches) and estimate_key(pitches, lengths) == key
            entropies.append(entropy_bits(pitches) if pitches else 0.0)
        print(f"{bias:8g} {found:>5d} / {args.pieces:<2d} {np.mean(entropies):10.2f}")
    print(f"wall {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
