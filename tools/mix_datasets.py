"""Mix several `chipline ingest` datasets into one, each part holding a set share of the tokens.

Build-time tool of the default model recipe (`make model`): the folk tunes outnumber the chorales
and the game tracks by far, so concatenating the datasets would let them dominate. Each part's
training sequences are drawn at random (seeded), without replacement until the part is used up
and then again, until the part holds `weight / sum(weights)` of `--train-tokens`. The eval split
is every part's eval split (or `--eval-tokens` of each, drawn the same way), unweighted. A
chip-voice part's `key_prior` enters the mix's in the part's share. The result is an ordinary
dataset folder.

    python tools/mix_datasets.py --out build/data/mix --train-tokens 6000000 \
        bach=build/data/bach:0.35 folk=build/data/folk:0.35 game=build/data/game:0.30
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from chipline.dataset.store import (
    SPLIT_FILES,
    Sequences,
    load_dataset,
    pack,
    write_json,
    write_split,
)


def parse_part(text: str) -> tuple[str, Path, float]:
    """`name=path:weight` -> (name, path, weight)."""
    name, _, rest = text.partition("=")
    path, _, weight = rest.rpartition(":")
    if not name or not path or not weight:
        raise argparse.ArgumentTypeError(f"{text!r}: expected name=DATASET:weight")
    return name, Path(path), float(weight)


def draw(seqs: Sequences, num_tokens: int, rng: np.random.Generator) -> list[int]:
    """Sequence indices totalling about `num_tokens` tokens: shuffled passes over all of them."""
    lengths = seqs.lengths
    chosen: list[int] = []
    total = 0
    while total < num_tokens:
        for index in rng.permutation(len(seqs)).tolist():
            chosen.append(index)
            total += int(lengths[index])
            if total >= num_tokens:
                break
    return chosen


def mix(
    parts: list[tuple[str, Path, float]], train_tokens: int, eval_tokens: int, out: Path, seed: int
) -> dict:
    rng = np.random.default_rng(seed)
    weight_sum = sum(w for _, _, w in parts)
    files: list[str] = []
    train, train_piece, held, held_piece = [], [], [], []
    shares = {}
    meta0: dict = {}
    key_prior = np.zeros(24)
    for name, path, weight in parts:
        data = load_dataset(path)
        meta0 = meta0 or dict(data.meta)
        key_prior += weight / weight_sum * np.array(data.meta.get("key_prior", np.nan))
        base = len(files)
        files += [f"{name}/{f}" for f in data.files]
        picked = draw(data.train, round(train_tokens * weight / weight_sum), rng)
        train += [data.train[i] for i in picked]
        train_piece += [base + int(data.train.piece[i]) for i in picked]
        kept = draw(data.eval, eval_tokens, rng) if eval_tokens else range(len(data.eval))
        held += [data.eval[i] for i in sorted(set(kept))]
        held_piece += [base + int(data.eval.piece[i]) for i in sorted(set(kept))]
        shares[name] = {
            "dataset": str(path),
            "weight": weight,
            "train_tokens": int(sum(data.train[i].size for i in picked)),
            "distinct_train_sequences": len(set(picked)),
            "available_train_sequences": len(data.train),
            "eval_tokens": int(sum(data.eval[i].size for i in set(kept))),
        }
    out.mkdir(parents=True, exist_ok=True)
    order = rng.permutation(len(train))
    write_split(out / SPLIT_FILES["train"], pack([train[i] for i in order],
                                                 [train_piece[i] for i in order]))  # fmt: skip
    write_split(out / SPLIT_FILES["eval"], pack(held, held_piece))
    meta = meta0 | {"files": files, "mix": {"seed": seed, "parts": shares}}
    meta["counts"] = {"train_sequences": len(train), "eval_sequences": len(held),
                      "train_tokens": sum(s["train_tokens"] for s in shares.values()),
                      "eval_tokens": sum(s["eval_tokens"] for s in shares.values())}  # fmt: skip
    meta.pop("eval_files", None)
    meta.pop("key_prior", None)
    if not np.isnan(key_prior).any():
        meta["key_prior"] = key_prior.round(6).tolist()
    write_json(out / "meta.json", meta)
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="+", type=parse_part, help="name=DATASET:weight")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--train-tokens", type=int, default=6_000_000)
    parser.add_argument("--eval-tokens", type=int, default=0, help="per part; 0 = all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    meta = mix(args.parts, args.train_tokens, args.eval_tokens, args.out, args.seed)
    print(json.dumps(meta["mix"], indent=1))


if __name__ == "__main__":
    main()
