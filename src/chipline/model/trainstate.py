"""Training checkpoints: model dir + optimizer state + position + RNG, all safetensors/JSON.

`RUN/checkpoints/step-NNNNNNNN/` holds the model files of `checkpoint.py` (so generate reads it
directly) plus `optimizer.safetensors`, `optimizer.json` and `state.json` + `rng.safetensors`.
Each is written in a temp dir and renamed into place, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from chipline.errors import ConfigError, ModelError
from chipline.model.checkpoint import (
    CHECKPOINTS_DIR,
    list_checkpoints,
    load_config,
    load_model,
    replace_dir,
    save_model,
)
from chipline.model.lstm import PolyphonyLSTM

if TYPE_CHECKING:
    from chipline.model.train import TrainConfig

STATE_FILE = "state.json"


@dataclass(frozen=True)
class Position:
    """Where training stands: steps done, and the next batch of the epoch's plan."""

    step: int = 0
    epoch: int = 0
    batch_index: int = 0


def step_dir_name(step: int) -> str:
    """The checkpoint folder name of `step`."""
    return f"step-{step:08d}"


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint dir of `run_dir`, or None."""
    found = [p for _, p in list_checkpoints(run_dir) if (p / STATE_FILE).is_file()]
    return found[-1] if found else None


def stored_config(run_dir: Path) -> dict[str, Any] | None:
    """The train config (as a dict) of the newest checkpoint of `run_dir`, or None."""
    path = latest(run_dir)
    return _read_json(path / STATE_FILE)["train_config"] if path else None


def save(
    run_dir: Path,
    cfg: TrainConfig,
    model: PolyphonyLSTM,
    optimizer: torch.optim.Optimizer,
    position: Position,
    data: dict[str, int],
) -> Path:
    """Write a checkpoint for `position.step` of a run on the training split `data`
    (`batches.fingerprint`); returns its dir."""
    from chipline.model.train import config_to_dict

    root = run_dir / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(position.step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        training = {"step": position.step, "train_config": config_to_dict(cfg)}
        save_model(tmp / "model", model.file_config(training), model.export_weights())
        for item in (tmp / "model").iterdir():
            item.rename(tmp / item.name)
        (tmp / "model").rmdir()
        tensors, meta = _flatten_optimizer(optimizer.state_dict())
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(meta))
        save_file(_rng_state(), str(tmp / "rng.safetensors"))
        state = {"position": asdict(position), "train_config": training["train_config"],
                 "train_split": data}  # fmt: skip
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1))
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def restore(
    run_dir: Path,
    cfg: TrainConfig,
    model: PolyphonyLSTM,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    data: dict[str, int],
) -> Position:
    """Load the newest checkpoint of `run_dir` into model and optimizer; returns its position.

    Raises:
        ConfigError: `cfg` contradicts the run's settings, or the training split `data`
            (`batches.fingerprint`) is not the one the run was trained on.
        ModelError: the checkpoint is corrupt or of another format/codec version.
    """
    from chipline.model.train import IDENTITY_FIELDS, TrainConfig, config_to_dict

    path = latest(run_dir)
    assert path is not None
    state = _read_json(path / STATE_FILE)
    # a field older checkpoints lack had its default then
    stored = config_to_dict(TrainConfig()) | state["train_config"]
    wanted = config_to_dict(cfg)
    diffs = [f"{k}={stored.get(k)!r} (asked {wanted[k]!r})" for k in IDENTITY_FIELDS
             if stored.get(k) != wanted[k]]  # fmt: skip
    if diffs:
        raise ConfigError(
            f"{run_dir}: this run was trained with {', '.join(diffs)}; resume without "
            "those flags, or start a new --run-dir"
        )
    trained_on = state.get("train_split", data)  # older checkpoints lack it
    if trained_on != data:
        raise ConfigError(
            f"{run_dir}: this run was trained on another dataset ({trained_on['sequences']:,} "
            f"training sequences, {trained_on['tokens']:,} tokens; this one has "
            f"{data['sequences']:,}, {data['tokens']:,}); resume on that dataset, or start a "
            "new --run-dir"
        )
    load_config(path)
    _, weights = load_model(path)
    model.import_weights(weights)
    try:
        tensors = load_file(str(path / "optimizer.safetensors"))
        meta = _read_json(path / "optimizer.json")
        optimizer.load_state_dict(_unflatten_optimizer(tensors, meta))
        _set_rng_state(load_file(str(path / "rng.safetensors")))
    except (SafetensorError, OSError, KeyError, ValueError, RuntimeError) as e:
        raise ModelError(f"{path}: corrupt training state ({e}); resume from an older step") from e
    for group_state in optimizer.state.values():
        for key, value in group_state.items():
            if torch.is_tensor(value) and key != "step":
                group_state[key] = value.to(device)
    return Position(**state["position"])


def prune(run_dir: Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints."""
    for _, path in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: unreadable ({e}); resume from an older checkpoint") from e
    if not isinstance(data, dict):
        raise ModelError(f"{path}: not a JSON object; resume from an older checkpoint")
    return data


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"state.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_state() -> dict[str, torch.Tensor]:
    out = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"cuda{i}"] = s
    return out


def _set_rng_state(tensors: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(tensors["cpu"])
    cuda = [tensors[f"cuda{i}"] for i in range(torch.cuda.device_count()) if f"cuda{i}" in tensors]
    if cuda and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
