"""JSB Chorales (Boulanger-Lewandowski 2012 split): train our LSTM, early-stop on valid, test NLL.

    python bench/jsb.py [--minutes 20] [--layer-sizes 128,128] [--out bench/out/jsb] [--resume]

Trains `chipline.model.train` on the 229 training chorales (transposed by --transpose, the
train split only), checkpoints every --checkpoint-every steps until --steps or --minutes, scores
every checkpoint's frame NLL on the 76 validation chorales (`chipline.framenll`), and reports
the best one's NLL on the 77 test chorales in nats per quarter-note frame, next to the published
table and an independent-Bernoulli baseline fitted here. `--resume` trains an earlier run on for
another --minutes; the training time reported is the total. Needs torch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from chipline.dataset.store import SPLIT_FILES, pack, write_json, write_split
from chipline.framenll import encode_frames, frame_nll
from chipline.model.checkpoint import list_checkpoints, load_model
from chipline.model.infer import NumpyLSTM

DEFAULT_DATA = Path(os.environ.get("CHIPLINE_SHARED_DATA", "/work/shared/data")) / "jsb"
PUBLISHED = (  # test NLL per frame, nats (data.md section 6.1)
    ("RNN (Boulanger-Lewandowski 2012)", 8.71),
    ("LSTM (Chung et al. 2014)", 8.67),
    ("GRU (Chung et al. 2014)", 8.54),
    ("RNN-RBM (Boulanger-Lewandowski 2012)", 6.27),
    ("RNN-NADE (Boulanger-Lewandowski 2012)", 5.19),
)


def write_jsb_dataset(data: dict, out: Path, transpose: range) -> Path:
    """train (each piece in every transposition) and eval (= valid, untransposed) as a dataset."""
    train = [encode_frames(p, t) for p in data["train"] for t in transpose]
    piece = [i for i in range(len(data["train"])) for _ in transpose]
    valid = [encode_frames(p) for p in data["valid"]]
    write_split(out / SPLIT_FILES["train"], pack(train, piece))
    write_split(out / SPLIT_FILES["eval"], pack(valid, list(range(len(valid)))))
    meta = {
        "format": "chipline-dataset",
        "format_version": 1,
        "codec": "polyphony",
        "codec_version": 1,
        "vocab_size": 259,
        "steps_per_quarter": 1,
        "files": [f"jsb-{i}" for i in range(len(data["train"]))],
    }
    write_json(out / "meta.json", meta)
    return out


def bernoulli_baseline(data: dict) -> float:
    """Test NLL per frame of independent per-pitch Bernoulli rates, add-p smoothing on valid."""

    def rolls(pieces: list) -> np.ndarray:
        frames = [f for p in pieces for f in p]
        roll = np.zeros((len(frames), 128))
        for i, frame in enumerate(frames):
            roll[i, list(frame)] = 1
        return roll

    train, valid, test = rolls(data["train"]), rolls(data["valid"]), rolls(data["test"])

    def nll(roll: np.ndarray, p: np.ndarray) -> float:
        return float(-(roll @ np.log(p) + (1 - roll) @ np.log(1 - p)).mean())

    best = min(
        (nll(valid, (train.sum(0) + a) / (len(train) + 2 * a)), a)
        for a in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    )
    return nll(test, (train.sum(0) + best[1]) / (len(train) + 2 * best[1]))


def train_capped(dataset: Path, run_dir: Path, args: argparse.Namespace) -> float:
    """Run chipline's training; a SIGINT after --minutes stops it with a checkpoint."""
    from chipline.model.lstm import ModelConfig
    from chipline.model.train import TrainConfig, train

    sizes = tuple(int(n) for n in args.layer_sizes.split(","))
    cfg = TrainConfig(
        model=ModelConfig(layer_sizes=sizes, dropout=args.dropout),
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        window=0,
        num_training_steps=args.steps,
        eval_every=args.checkpoint_every,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=10_000,
        log_every=50,
        seed=args.seed,
        device="cpu",
        num_threads=args.threads,
    )
    signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    signal.alarm(int(args.minutes * 60))
    start = time.perf_counter()
    try:
        train(cfg, dataset, run_dir)
    finally:
        signal.alarm(0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "jsb-chorales-quarter.json")
    parser.add_argument("--out", type=Path, default=Path("bench/out/jsb"))
    parser.add_argument("--layer-sizes", default="192,192")
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--transpose", type=int, default=2, help="train on -N..N semitones")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="train --out's run on")
    args = parser.parse_args()
    data = json.loads(args.data.read_text())
    run_dir = args.out / "run"
    spent_file = args.out / "train_sec.json"
    if run_dir.exists() and not args.resume:
        sys.exit(f"{run_dir} exists; pass --resume to train on, or another --out")
    dataset = args.out / "dataset"
    if not args.resume:
        write_jsb_dataset(data, dataset, range(-args.transpose, args.transpose + 1))
    spent = json.loads(spent_file.read_text()) if spent_file.exists() else 0.0
    train_sec = spent + train_capped(dataset, run_dir, args)
    spent_file.write_text(json.dumps(train_sec))
    scores = []
    for step, path in list_checkpoints(run_dir):
        valid = frame_nll(NumpyLSTM(*load_model(path)), data["valid"])
        scores.append((valid, step, path))
        print(f"step {step:5d}: valid {valid:.3f} nats/frame", flush=True)
    valid, step, path = min(scores)
    test = frame_nll(NumpyLSTM(*load_model(path)), data["test"])
    floor = bernoulli_baseline(data)
    result = {
        "test_nll_per_frame": test,
        "valid_nll_per_frame": valid,
        "best_step": step,
        "train_sec": train_sec,
        "layer_sizes": args.layer_sizes,
        "dropout": args.dropout,
        "transpose": args.transpose,
        "num_test_frames": sum(len(p) for p in data["test"]),
        "bernoulli_test_nll_per_frame": floor,
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"\nJSB test NLL per quarter-note frame (nats), best valid step {step}, "
        f"training {train_sec / 60:.1f} min on CPU:"
    )
    rows = [
        *PUBLISHED,
        ("chipline LSTM " + args.layer_sizes + " (this run)", test),
        ("independent Bernoulli (this run)", floor),
    ]
    for name, value in sorted(rows, key=lambda r: -r[1]):
        print(f"  {name:42s} {value:6.2f}   ratio to ours {value / test:5.2f}")


if __name__ == "__main__":
    main()
