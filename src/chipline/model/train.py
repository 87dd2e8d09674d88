"""Training loop for PolyphonyLSTM: read top to bottom, like nanoGPT's train.py.

Deviations from Magenta's polyphony_rnn_train, and why:
- pieces are cut into windows of `window` events (Magenta pads whole pieces to the longest in a
  random batch): many more updates per second and almost no padding; `window = 0` restores
  whole-piece training;
- windows of similar length are batched together, in an order fixed by (seed, epoch), so an
  interrupted run resumes exactly;
- eval runs during training on the eval split with dropout off, over all its examples;
- layer 0's one-hot input weights start in +-4, not Glorot (see lstm.INPUT_INIT_LIMIT).
Everything else is Magenta's: one-hot input, LSTM stack with output dropout, Adam, global-norm
gradient clipping, mean cross-entropy over the real (unpadded) events of a batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from chipline.errors import ConfigError, ModelError
from chipline.model import trainstate
from chipline.model.batches import (
    IGNORE_INDEX,
    Split,
    collate,
    dataset_model_fields,
    epoch_plan,
    eval_plan,
    fingerprint,
    load_splits,
)
from chipline.model.lstm import ModelConfig, PolyphonyLSTM

logger = logging.getLogger(__name__)
STEP_END = 2  # the polyphony codec's step separator ("no event" for event accuracy)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. Defaults follow Magenta's polyphony config where it has one."""

    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 64
    learning_rate: float = 1e-3
    decay_steps: int = 0  # with decay_rate: the rate is multiplied by it every so many steps
    decay_rate: float = 1.0  # (Magenta's staircase exponential decay); 0 steps: constant
    clip_norm: float = 5.0
    window: int = 128  # events per training window; 0 = whole pieces (Magenta)
    num_training_steps: int = 20_000  # Magenta's default 0 (forever) is not offered
    eval_every: int = 250  # steps; 0 = only at the end
    eval_batch_events: int = 65_536  # padded positions per eval batch
    checkpoint_every: int = 500  # steps
    keep_checkpoints: int = 5
    log_every: int = 10  # steps
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16/fp16 on CUDA
    num_threads: int = 0  # CPU threads for torch; 0 = torch's default (all cores)

    def __post_init__(self) -> None:
        positive = ("batch_size", "num_training_steps", "checkpoint_every", "keep_checkpoints")
        for name in (*positive, "log_every", "eval_batch_events"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"train: {name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.model.dropout < 1.0:
            raise ConfigError(f"train: dropout must be in [0, 1), got {self.model.dropout}")
        if not self.model.layer_sizes or min(self.model.layer_sizes) <= 0:
            raise ConfigError(f"train: layer sizes must be positive, got {self.model.layer_sizes}")
        if self.learning_rate <= 0 or self.clip_norm <= 0 or self.window < 0:
            raise ConfigError("train: learning_rate and clip_norm must be > 0, window >= 0")
        if self.decay_steps < 0 or not 0 < self.decay_rate <= 1:
            raise ConfigError("train: decay_steps must be >= 0 and decay_rate in (0, 1]")


# Fields that define the run; changing them on resume would not continue the same training.
IDENTITY_FIELDS = ("model", "batch_size", "learning_rate", "decay_steps", "decay_rate",
                   "clip_norm", "window", "seed")  # fmt: skip
Progress = Callable[[dict[str, Any]], bool | None]  # returns True to stop training early


def train(cfg: TrainConfig, dataset: Path, run_dir: Path, progress: Progress | None = None) -> Path:
    """Train (or resume) in `run_dir` until `cfg.num_training_steps`; returns the last checkpoint.

    Ctrl-C (SIGINT) or SIGTERM stop after the current step with a checkpoint to resume from.
    `progress` is called every `log_every` steps and after each eval with the metrics dict; if it
    returns True, training stops there as after Ctrl-C.
    """
    dist = _Distributed.start()
    device = _device(cfg.device, dist)
    autocast, scaler = _precision(cfg.precision, device)
    run_dir = Path(run_dir)
    train_split, eval_split = load_splits(Path(dataset))
    cfg = replace(cfg, model=replace(cfg.model, **dataset_model_fields(Path(dataset))))
    if train_split.lengths.size == 0 or int(train_split.lengths.max(initial=0)) < 2:
        raise ConfigError(f"{dataset}: the training split has no sequences to learn from")
    data = fingerprint(train_split)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    model = PolyphonyLSTM(cfg.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    position = trainstate.Position()
    if trainstate.latest(run_dir) is not None:
        position = trainstate.restore(run_dir, cfg, model, optimizer, device, data)
        logger.info("resuming %s at step %d", run_dir, position.step)
    run_dir.mkdir(parents=True, exist_ok=True)
    net = dist.wrap(model, device)
    log = _MetricsLog(run_dir, enabled=dist.is_main)
    stop = _StopFlag()
    last = trainstate.latest(run_dir)
    if dist.is_main:
        (run_dir / "train_config.json").write_text(json.dumps(config_to_dict(cfg), indent=1))
    with stop, log:
        t_start, events, t_log = time.perf_counter(), 0, time.perf_counter()
        paused_sec = paused_at_log = 0.0  # time in eval and checkpoints, left out of train_sec
        cpu_start, paused_cpu = time.process_time(), 0.0  # the same in process CPU seconds
        batches = _batches(train_split, cfg, position, dist)
        while position.step < cfg.num_training_steps and not dist.any(stop.requested, device):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(cfg, position.step)
            rows, position = next(batches)
            inputs, targets = collate(train_split, rows)
            x = torch.from_numpy(inputs).to(device, non_blocking=True)
            y = torch.from_numpy(targets).to(device, non_blocking=True)
            loss, grad_norm = train_step(net, optimizer, scaler, autocast, x, y, cfg.clip_norm)
            events += int((targets != IGNORE_INDEX).sum()) * dist.world_size
            if position.step % cfg.log_every == 0 or position.step == cfg.num_training_steps:
                now = time.perf_counter()
                row = {"step": position.step, "split": "train", "loss": loss.item(),
                       "grad_norm": float(grad_norm),
                       "learning_rate": optimizer.param_groups[0]["lr"], "events": events,
                       "events_per_sec": events / (now - t_log - (paused_sec - paused_at_log)),
                       "epoch": position.epoch, "wall_sec": now - t_start,
                       "train_sec": now - t_start - paused_sec,
                       "train_cpu_sec": time.process_time() - cpu_start - paused_cpu}  # fmt: skip
                events, t_log, paused_at_log = 0, now, paused_sec
                stop.requested |= log.write(row, progress)
            at_end = position.step >= cfg.num_training_steps or dist.any(stop.requested, device)
            if (cfg.eval_every and position.step % cfg.eval_every == 0) or at_end:
                t_eval, cpu_eval = time.perf_counter(), time.process_time()
                if dist.is_main and eval_split.lengths.size:
                    scores = evaluate(model, eval_split, cfg, device, autocast)
                    timing = {"wall_sec": t_eval - t_start,
                              "train_sec": t_eval - t_start - paused_sec,
                              "train_cpu_sec": cpu_eval - cpu_start - paused_cpu,
                              "eval_sec": time.perf_counter() - t_eval}  # fmt: skip
                    row = {"step": position.step, "split": "eval", **scores, **timing}
                    stop.requested |= log.write(row, progress)
                dist.barrier()
                paused_sec += time.perf_counter() - t_eval
                paused_cpu += time.process_time() - cpu_eval
            if position.step % cfg.checkpoint_every == 0 or at_end:
                t_save = time.perf_counter()
                last = _save(run_dir, cfg, model, optimizer, position, data, dist)
                paused_sec += time.perf_counter() - t_save
        if last is None or last.name != trainstate.step_dir_name(position.step):
            last = _save(run_dir, cfg, model, optimizer, position, data, dist)  # after an eval
    dist.stop()
    if last is None:
        raise ModelError(f"{run_dir}: no checkpoint was written")
    return last


def learning_rate_at(cfg: TrainConfig, step: int) -> float:
    """The learning rate of the update after `step` updates."""
    if not cfg.decay_steps:
        return cfg.learning_rate
    return cfg.learning_rate * cfg.decay_rate ** (step // cfg.decay_steps)


def train_step(
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    autocast: Callable[[], Any],
    x: torch.Tensor,
    y: torch.Tensor,
    clip_norm: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One update on inputs/targets int64 (B, T); returns (loss, gradient norm before clipping)."""
    net.train()
    with autocast():
        _, loss = net(x, y)  # mean over the real events of this rank's batch
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach(), grad_norm


def _save(
    run_dir: Path,
    cfg: TrainConfig,
    model: PolyphonyLSTM,
    optimizer: torch.optim.Optimizer,
    position: trainstate.Position,
    data: dict[str, int],
    dist: _Distributed,
) -> Path | None:
    path = None
    if dist.is_main:
        path = trainstate.save(run_dir, cfg, model, optimizer, position, data)
        trainstate.prune(run_dir, cfg.keep_checkpoints)
    dist.barrier()
    return path or trainstate.latest(run_dir)


def _batches(
    split: Split, cfg: TrainConfig, position: trainstate.Position, dist: _Distributed
) -> Iterator[tuple[np.ndarray, trainstate.Position]]:
    """Endless (rows, position after this step); this rank's share of each global step."""
    epoch, index, step = position.epoch, position.batch_index, position.step
    while True:
        plan = epoch_plan(split.lengths, cfg.batch_size, cfg.window, cfg.seed, epoch)
        num_steps = len(plan) // dist.world_size
        if num_steps == 0:
            raise ConfigError("the training split has fewer batches than there are processes")
        while index < num_steps:
            rows = plan[index * dist.world_size + dist.rank]
            index += 1
            step += 1
            yield rows, trainstate.Position(step=step, epoch=epoch, batch_index=index)
        epoch, index = epoch + 1, 0


@torch.no_grad()
def evaluate(
    model: PolyphonyLSTM,
    split: Split,
    cfg: TrainConfig,
    device: torch.device,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> dict[str, float]:
    """Loss (nats per event), perplexity, accuracy over all eval events with dropout off.

    event_accuracy is the accuracy where the label is not STEP_END (a note event), as
    Magenta's; no_event_accuracy where it is STEP_END.
    """
    model.eval()
    total_loss, count = 0.0, 0
    hits = np.zeros(2)
    counts = np.zeros(2)
    for rows in eval_plan(split.lengths, cfg.eval_batch_events):
        inputs, targets = collate(split, rows)
        y = torch.from_numpy(targets).to(device)
        with autocast() if autocast else contextlib.nullcontext():
            logits, _ = model(torch.from_numpy(inputs).to(device))
        mask = y != IGNORE_INDEX
        losses = F.cross_entropy(logits.float()[mask], y[mask], reduction="sum")
        total_loss += float(losses)
        count += int(mask.sum())
        correct = (logits.argmax(-1) == y)[mask]
        is_step_end = (y[mask] == STEP_END).long()
        for kind in (0, 1):
            hits[kind] += float(correct[is_step_end == kind].sum())
            counts[kind] += float((is_step_end == kind).sum())
    loss = total_loss / max(count, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "accuracy": float(hits.sum() / max(counts.sum(), 1)),
        "event_accuracy": float(hits[0] / max(counts[0], 1)),
        "no_event_accuracy": float(hits[1] / max(counts[1], 1)),
        "num_events": count,
    }


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """`cfg` as JSON-ready data (tuples become lists)."""
    return json.loads(json.dumps(asdict(cfg)))


def _device(name: str, dist: _Distributed) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available; use --device cpu or auto")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda", dist.local_rank)


def precision_context(name: str, device: torch.device) -> tuple[Callable[[], Any], Any]:
    """(autocast context factory, grad scaler) for precision `name` on `device`."""
    return _precision(name, device)


def _precision(name: str, device: torch.device) -> tuple[Callable[[], Any], Any]:
    """(autocast context factory, grad scaler) for `name` on `device`."""
    if device.type != "cuda" or name == "fp32":
        if name in ("bf16", "fp16") and device.type != "cuda":
            raise ConfigError(f"precision {name} needs a CUDA device; use fp32 or auto on CPU")
        return contextlib.nullcontext, torch.amp.GradScaler("cpu", enabled=False)
    if name == "auto":
        name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    dtype = torch.bfloat16 if name == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=name == "fp16")
    return (lambda: torch.autocast("cuda", dtype=dtype)), scaler


class _StopFlag:
    """Turns the first SIGINT/SIGTERM into a request to stop after the current step."""

    requested = False

    def __enter__(self) -> _StopFlag:
        self._old: dict[int, Any] = {}
        if _is_main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("stopping after this step; a checkpoint will be written")

    def __exit__(self, *_: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class _MetricsLog:
    """metrics.jsonl always; TensorBoard too when the tensorboard package is installed."""

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.path, self.enabled = run_dir / "metrics.jsonl", enabled
        self.tb: Any = None

    def __enter__(self) -> _MetricsLog:
        if self.enabled:
            self.file = open(self.path, "a")  # noqa: SIM115 - closed in __exit__
            with contextlib.suppress(ImportError):
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(self.path.parent / "tensorboard"))
        return self

    def write(self, row: dict[str, Any], progress: Progress | None) -> bool:
        """Log `row`; True if `progress` asks to stop."""
        if self.enabled:
            self.file.write(json.dumps(row) + "\n")
            self.file.flush()
            if self.tb is not None:
                for key, value in row.items():
                    if isinstance(value, float):
                        self.tb.add_scalar(f"{row['split']}/{key}", value, row["step"])
        return bool(progress(row)) if progress is not None and self.enabled else False

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            self.file.close()
            if self.tb is not None:
                self.tb.close()


class _Distributed:
    """Data-parallel glue for `torchrun` (its RANK/WORLD_SIZE/LOCAL_RANK); a no-op otherwise."""

    def __init__(self, rank: int, world_size: int, local_rank: int) -> None:
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.is_main = rank == 0

    @classmethod
    def start(cls) -> _Distributed:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls(0, 1, 0)
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
        return cls(torch.distributed.get_rank(), world_size, local_rank)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if self.world_size == 1:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if `flag` is true on any rank (a stop request reaches all)."""
        if self.world_size == 1:
            return flag
        value = torch.tensor([int(flag)], device=device)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        if self.world_size > 1:
            torch.distributed.barrier()

    def stop(self) -> None:
        if self.world_size > 1:
            torch.distributed.destroy_process_group()
