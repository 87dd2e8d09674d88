"""Loop seams and sample quality: a chip-voice model's --loop output against the polyphony model.

For both models: the model's NLL across the loop seam over its NLL inside the piece (token seam
ratio), the spectral change at the loop point of the delivered OGG over the change at the bar
lines inside it (audio seam ratio), and the Yang–Lerch overlapping area against held-out real
pieces (`chipline.evaluate.sample_quality`). The polyphony model's pieces are cut at a bar line
(16 bars of 16 steps), as `chipline make` delivers them. Lower ratios are better; 1.0 means the
seam is like any other bar line.

    python bench/loopseam.py --chipvoice-model src/chipline/models/chipvoice
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from chipline.encoding import polyphony
from chipline.evaluate import generated_pieces, real_pieces, sample_quality
from chipline.generate import load_generator
from chipline.generate.chipvoice import Controls, generate
from chipline.generate.sampler import Search, generate_tokens
from chipline.keys import Key
from chipline.loopseam import (
    audio_seam,
    chipvoice_token_seam,
    ogg_loop_points,
    polyphony_token_seam,
)
from chipline.make import MAKE_RENDER, MakeConfig, bundled_model_dir, make
from chipline.make_chipvoice import load_chipvoice_model

DATA = Path(
    os.environ.get("CHIPLINE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
QPM, NUM_BARS = 140, 16
NUM_STEPS = NUM_BARS * 16


def token_seams(cv_model, poly_model, num: int, candidates: int, seed: int) -> dict[str, list]:
    # each model draws from its own stream, so one model's draws do not move the other's
    rng = np.random.default_rng([seed, 0])
    out: dict[str, list] = {"chipvoice": [], "polyphony": []}
    for i in range(num):
        key = Key(int(rng.integers(12)), bool(i % 2))
        controls = Controls(key=key, qpm=QPM, num_bars=NUM_BARS, num_candidates=candidates)
        (tokens,) = generate(cv_model, controls, 1, rng)
        out["chipvoice"].append(chipvoice_token_seam(cv_model, tokens))
    for tokens in generate_tokens(poly_model, np.array([polyphony.START], np.uint16), NUM_STEPS,
                                  num, Search(), np.random.default_rng([seed, 1])):  # fmt: skip
        out["polyphony"].append(polyphony_token_seam(poly_model, tokens))
    return out


def audio_seams(model_dir: Path, num: int, seed: int) -> list:
    bar_samples = MAKE_RENDER.sample_rate * 4 * 60 / QPM
    with tempfile.TemporaryDirectory() as tmp:
        cfg = MakeConfig(num_tracks=num, num_bars=NUM_BARS, qpm=QPM, key="Am", seed=seed,
                         model=str(model_dir))  # fmt: skip
        make(Path(tmp) / "out", cfg)
        seams = []
        for ogg in sorted((Path(tmp) / "out").glob("track-*.ogg")):
            audio, _ = soundfile.read(ogg, dtype="float32")
            start, length = ogg_loop_points(ogg)
            seams.append(audio_seam(audio, start, length, bar_samples))
    return seams


def quality(cv_model, poly_model, num: int, seed: int) -> dict[str, dict]:
    split = json.loads((DATA / "bach-split.json").read_text())
    folder = DATA / "midi" / "bach-magenta"
    reference = real_pieces([folder / name for name in split["eval"]], NUM_STEPS, 2 * num, seed)
    return {
        name: sample_quality(reference, generated_pieces(model, num, NUM_STEPS, seed), seed)
        for name, model in (("chipvoice", cv_model), ("polyphony", poly_model))
    }


def _row(name: str, seams: list) -> str:
    ratios = np.array([s.ratio for s in seams])
    seam = np.mean([s.seam for s in seams])
    inside = np.mean([s.inside for s in seams])
    return (f"  {name:10s} seam {seam:6.3f}  inside {inside:6.3f}  ratio mean "
            f"{ratios.mean():5.2f} median {np.median(ratios):5.2f}  (n={len(seams)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chipvoice-model", type=Path, required=True)
    parser.add_argument("--polyphony-model", type=Path, default=None)
    parser.add_argument("--num-pieces", type=int, default=8)
    parser.add_argument("--num-tracks", type=int, default=4)
    parser.add_argument("--num-quality", type=int, default=16)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    poly_dir = args.polyphony_model or bundled_model_dir()
    cv_model = load_chipvoice_model(args.chipvoice_model)
    poly_model = load_generator(poly_dir)
    t0 = time.perf_counter()
    tokens = token_seams(cv_model, poly_model, args.num_pieces, args.candidates, args.seed)
    print(f"token seam: NLL per token (nats) across the seam vs inside ({QPM} qpm, "
          f"{NUM_BARS} bars, {args.candidates} last-bar candidates)")  # fmt: skip
    for name, seams in tokens.items():
        print(_row(name, seams))
    print("audio seam: spectral change at the loop point vs at the bar lines (chipline make OGG)")
    for name, model_dir in (("chipvoice", args.chipvoice_model), ("polyphony", poly_dir)):
        print(_row(name, audio_seams(model_dir, args.num_tracks, args.seed)))
    print("Yang-Lerch overlapping area vs held-out Bach chorales (higher is better)")
    for name, report in quality(cv_model, poly_model, args.num_quality, args.seed).items():
        print(f"  {name:10s} model {report['model']['mean']:.3f}  ceiling "
              f"{report['ceiling']['mean']:.3f}  floor {report['floor']['mean']:.3f}")  # fmt: skip
    print(f"wall {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
