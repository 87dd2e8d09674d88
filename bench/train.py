"""Training speed and time-to-loss of `chipline train` on the Bach corpus Magenta was measured on.

    python bench/train.py [--dataset DIR] [--steps 20] [--ttl-seconds 600] [--skip-ttl]

1. Throughput (batch 64, 3x128): our training loop (its own metrics) against a bare
   torch.nn.LSTM + Linear + cross-entropy forward/backward + clipping + Adam step on the same
   batches, measured before and after ours in the same run; real (unpadded) events/s and s/step,
   for our windows and for whole pieces (Magenta's batches).
2. Time to loss on the fixed split (bach-split.json): eval (dropout off, all eval events) every
   --eval-every steps; when our eval loss first falls to each of Magenta's thresholds
   (magenta-ttl.json), in training seconds (eval and checkpoints left out, as Magenta's figures
   leave out its separately run eval) and wall seconds.
Without --dataset the dataset is built with `chipline ingest` and Magenta's settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from chipline.model.batches import IGNORE_INDEX, Split, collate, epoch_plan, load_splits  # noqa: E402
from chipline.model.lstm import ModelConfig, PolyphonyLSTM  # noqa: E402
from chipline.model.train import TrainConfig, precision_context, train, train_step  # noqa: E402

SHARED = Path(os.environ.get("CHIPLINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
MAGENTA_SEC_PER_STEP = 5.8  # magenta.md's figure; magenta-ttl.json's run averaged 6.38 s
MAGENTA_TOML = '[dataset]\nsingle_program = true\nlong_pieces = "discard"\n'
WARMUP_STEPS = 2


def build_dataset(out: Path) -> Path:
    """Magenta's pipeline settings on the fixed split (3,312 train / 333 eval examples)."""
    toml = out.parent / "magenta-dataset.toml"
    toml.parent.mkdir(parents=True, exist_ok=True)
    toml.write_text(MAGENTA_TOML)
    cmd = [sys.executable, "-m", "chipline", "-q", "ingest", str(SHARED / "midi/bach-magenta"),
           "--out", str(out), "--split-file", str(SHARED / "bach-split.json"),
           "--config", str(toml)]  # fmt: skip
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return out


def paired_steps(split: Split, cfg: TrainConfig, steps: int) -> dict[str, float]:
    """Alternate one bare-torch step and one of ours on each batch (so load swings hit both).

    Bare: torch.nn.LSTM (all layers in one module) + dropout + Linear + cross-entropy, backward,
    clipping, Adam, on already-collated tensors. Ours: collate from the dataset arrays, tensors,
    PolyphonyLSTM, train_step (the code `train()` runs each step).
    """
    torch.manual_seed(0)
    sizes = cfg.model.layer_sizes
    lstm = torch.nn.LSTM(259, sizes[0], len(sizes), batch_first=True, dropout=cfg.model.dropout)
    head = torch.nn.Linear(sizes[0], 259)
    params = [*lstm.parameters(), *head.parameters()]
    bare_opt = torch.optim.Adam(params, lr=cfg.learning_rate)
    model = PolyphonyLSTM(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    autocast, scaler = precision_context("fp32", torch.device("cpu"))
    plan = epoch_plan(split.lengths, cfg.batch_size, cfg.window, cfg.seed, 0)
    bare_sec, our_sec, events, ratios = 0.0, 0.0, 0, []
    for i, rows in enumerate(plan[: steps + WARMUP_STEPS]):
        x, y = (torch.from_numpy(a) for a in collate(split, rows))
        t0 = time.perf_counter()
        out, _ = lstm(F.one_hot(x, 259).float())
        out = F.dropout(out, cfg.model.dropout, training=True)
        loss = F.cross_entropy(head(out).reshape(-1, 259), y.reshape(-1), ignore_index=-1)
        bare_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm)
        bare_opt.step()
        t1 = time.perf_counter()
        inputs, targets = collate(split, rows)
        xs, ys = torch.from_numpy(inputs), torch.from_numpy(targets)
        train_step(model, opt, scaler, autocast, xs, ys, cfg.clip_norm)
        t2 = time.perf_counter()
        if i >= WARMUP_STEPS:
            bare_sec, our_sec = bare_sec + t1 - t0, our_sec + t2 - t1
            events += int((targets != IGNORE_INDEX).sum())
            ratios.append((t2 - t1) / (t1 - t0))  # ours / bare
    return {"ours_eps": events / our_sec, "bare_eps": events / bare_sec,
            "ours_sec_per_step": our_sec / steps,
            "median_ratio": float(np.median(ratios))}  # fmt: skip


def throughput(dataset: Path, cfg: TrainConfig, steps: int) -> None:
    split = load_splits(dataset)[0]
    for window in (cfg.window, 0):
        got = paired_steps(split, dataclasses.replace(cfg, window=window), steps)
        label = f"window {window}" if window else "whole pieces (Magenta's batches)"
        print(f"{label}: ours {got['ours_eps']:,.0f} real events/s, "
              f"{got['ours_sec_per_step']:.2f} s/step | bare torch {got['bare_eps']:,.0f} "
              f"events/s | our overhead {got['bare_eps'] / got['ours_eps'] - 1:+.1%} "
              f"(median per step {got['median_ratio'] - 1:+.1%}) | Magenta "
              f"{MAGENTA_SEC_PER_STEP} s/step -> "
              f"{MAGENTA_SEC_PER_STEP / got['ours_sec_per_step']:.1f}x less per step",
              flush=True)  # fmt: skip


def time_to_loss(dataset: Path, cfg: TrainConfig, budget_sec: float, run: Path) -> None:
    magenta = json.loads((SHARED / "magenta-ttl.json").read_text())
    final = magenta["magenta_eval_final_checkpoint_dropout_off_all_examples"]["loss"]
    targets = [(t["eval_loss_at_most"], t["wall_s"]) for t in magenta["time_to_eval_loss"]]
    targets.append((final, magenta["training"]["final_checkpoint_wall_s"]))
    evals: list[dict] = []

    def watch(row: dict) -> bool:
        if row["split"] == "eval":
            evals.append(row)
            print(f"  step {row['step']}: eval loss {row['loss']:.4f} at {row['train_sec']:.0f} s "
                  f"training, {row['train_cpu_sec']:.0f} CPU s ({row['wall_sec']:.0f} s wall, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
            return row["loss"] <= final
        return row["train_sec"] > budget_sec

    train(dataclasses.replace(cfg, num_training_steps=10**6), dataset, run, progress=watch)
    print(f"time to Magenta's eval losses (Magenta final {final} at {targets[-1][1]:.0f} s):")
    for loss, magenta_sec in targets:
        hit = next((r for r in evals if r["loss"] <= loss), None)
        if hit is None:
            print(f"  <= {loss}: not reached in {budget_sec:.0f} s (Magenta {magenta_sec:.0f} s)")
            continue
        train_sec, wall_sec = hit["train_sec"], hit["wall_sec"]
        print(f"  <= {loss}: {train_sec:.0f} s training / {wall_sec:.0f} s wall "
              f"(step {hit['step']}) vs Magenta {magenta_sec:.0f} s -> "
              f"{magenta_sec / train_sec:.1f}x ({magenta_sec / wall_sec:.1f}x wall)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="a dataset built as build_dataset does")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.add_argument("--ttl-seconds", type=float, default=600.0, help="training-time budget")
    parser.add_argument("--skip-ttl", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--window", type=int, default=TrainConfig.window)
    parser.add_argument("--dropout", type=float, default=ModelConfig.dropout)
    parser.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num-threads", type=int, default=0, help="torch CPU threads (0: all)")
    args = parser.parse_args()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    tmp = Path(tempfile.mkdtemp(prefix="chipline-bench-train-"))
    dataset = args.dataset or build_dataset(tmp / "bach")
    model = ModelConfig(layer_sizes=(128, 128, 128), dropout=args.dropout)
    cfg = TrainConfig(model=model, batch_size=64, window=args.window, device=args.device,
                      learning_rate=args.learning_rate, eval_every=args.eval_every,
                      num_threads=args.num_threads)  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{os.getloadavg()[0]:.1f}; {cfg}", flush=True)  # fmt: skip
    if not args.skip_throughput:
        throughput(dataset, cfg, args.steps)
    if not args.skip_ttl:
        time_to_loss(dataset, cfg, args.ttl_seconds, tmp / "ttl-run")


if __name__ == "__main__":
    main()
