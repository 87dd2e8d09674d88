"""The model file format: a folder with `config.json` and float32 `model.safetensors`, no pickle.

A model dir holds
  config.json        {"format": "chipline-model", "format_version": 1, "arch": "lstm",
                      "codec": "polyphony", "codec_version": 1, "vocab_size": 259,
                      "layer_sizes": [...], "dropout": ..., "training": {...},
                      "key_prior": [24 shares] (chip-voice, optional)}
  model.safetensors  lstm.weight_ih_l{k} (4H, in), lstm.weight_hh_l{k} (4H, H),
                     lstm.bias_ih_l{k} (4H,), lstm.bias_hh_l{k} (4H,) in torch gate order
                     i, f, g, o; head.weight (V, H), head.bias (V,).
A run dir (`chipline train --run-dir`) holds `checkpoints/step-NNNNNNNN/`, each a model dir plus
the training state; `load_model` picks the newest complete one. This module needs no torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline.encoding import chipvoice, polyphony
from chipline.errors import ModelError

FORMAT = "chipline-model"
FORMAT_VERSION = 1
ARCH = "lstm"
CODEC = polyphony.CODEC_NAME
# codec name → the token layout version of it that this chipline reads
CODEC_VERSIONS = {CODEC: polyphony.CODEC_VERSION, chipvoice.CODEC_NAME: chipvoice.CODEC_VERSION}
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CHECKPOINTS_DIR = "checkpoints"
_STEP_DIR = re.compile(r"^step-(\d+)$")

Weights = dict[str, npt.NDArray[np.float32]]


def model_config(
    layer_sizes: list[int],
    vocab_size: int,
    dropout: float,
    training: Mapping[str, Any] | None = None,
    codec: str = CODEC,
    key_prior: Sequence[float] = (),
) -> dict[str, Any]:
    """The `config.json` dict for an LSTM over `codec` (polyphony or chipvoice); a chip-voice
    model's `key_prior` is the share of each header key (KEY_0..KEY_23) in its training data."""
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": ARCH,
        "codec": codec,
        "codec_version": CODEC_VERSIONS[codec],
        "vocab_size": int(vocab_size),
        "layer_sizes": [int(n) for n in layer_sizes],
        "dropout": float(dropout),
        "training": dict(training or {}),
    }
    if key_prior:
        config["key_prior"] = [float(p) for p in key_prior]
    return config


def expected_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The tensor name -> shape table that `config` implies."""
    vocab_size = int(config["vocab_size"])
    shapes: dict[str, tuple[int, ...]] = {}
    in_size = vocab_size
    for k, hidden in enumerate(config["layer_sizes"]):
        shapes[f"lstm.weight_ih_l{k}"] = (4 * hidden, in_size)
        shapes[f"lstm.weight_hh_l{k}"] = (4 * hidden, hidden)
        shapes[f"lstm.bias_ih_l{k}"] = (4 * hidden,)
        shapes[f"lstm.bias_hh_l{k}"] = (4 * hidden,)
        in_size = hidden
    shapes["head.weight"] = (vocab_size, in_size)
    shapes["head.bias"] = (vocab_size,)
    return shapes


def save_model(model_dir: Path, config: Mapping[str, Any], weights: Mapping[str, Any]) -> Path:
    """Write `config` and float32 `weights` into `model_dir`, atomically (temp dir, then rename).

    An existing `model_dir` is replaced. Returns `model_dir`.
    """
    from safetensors.numpy import save_file

    model_dir = Path(model_dir)
    _check_weights(dict(config), {k: np.asarray(v) for k, v in weights.items()}, model_dir)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", dir=model_dir.parent))
    try:
        arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        save_file(arrays, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(dict(config), indent=1) + "\n")
        replace_dir(tmp, model_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return model_dir


def replace_dir(src: Path, dst: Path) -> None:
    """Move the finished folder `src` to `dst`, replacing an older `dst` as atomically as we can."""
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints `(step, path)` of a run dir, oldest first."""
    found = []
    ckpt_root = Path(run_dir) / CHECKPOINTS_DIR
    if ckpt_root.is_dir():
        for child in ckpt_root.iterdir():
            match = _STEP_DIR.match(child.name)
            if match and (child / CONFIG_FILE).is_file() and (child / WEIGHTS_FILE).is_file():
                found.append((int(match.group(1)), child))
    return sorted(found)


def resolve_model_dir(path: Path) -> Path:
    """A model dir for `path`: itself, its parent (a `.safetensors` file) or a run's newest step."""
    path = Path(path)
    if path.is_file() and path.name in (WEIGHTS_FILE, CONFIG_FILE):
        path = path.parent
    if (path / CONFIG_FILE).is_file():
        return path
    if not path.exists():
        raise ModelError(f"{path}: no such model or run directory")
    checkpoints = list_checkpoints(path)
    if not checkpoints:
        raise ModelError(
            f"{path}: neither a model dir (no {CONFIG_FILE}) nor a run dir with checkpoints "
            f"(no {CHECKPOINTS_DIR}/step-N/); train one with `chipline train` or convert a Magenta "
            "model with `chipline import-magenta`"
        )
    return checkpoints[-1][1]


def load_config(model_dir: Path) -> dict[str, Any]:
    """Read and validate `config.json` of a model dir; refuses other formats and codec versions."""
    path = Path(model_dir) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except OSError as e:
        raise ModelError(f"{path}: cannot read model config ({e.strerror})") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(
            f"{path}: corrupt model config, not JSON ({e}); re-export the model"
        ) from e
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelError(f"{path}: not a chipline model config (format is not {FORMAT!r})")
    _check_version(path, config, "format_version", FORMAT_VERSION, "model file format")
    codec = config.get("codec")
    if codec not in CODEC_VERSIONS:
        known = ", ".join(map(repr, CODEC_VERSIONS))
        raise ModelError(f"{path}: model uses codec {codec!r}, this chipline reads {known} only")
    _check_version(path, config, "codec_version", CODEC_VERSIONS[codec], f"{codec} encoding")
    if config.get("arch") != ARCH:
        raise ModelError(f"{path}: unknown architecture {config.get('arch')!r} (expected {ARCH!r})")
    sizes = config.get("layer_sizes")
    if not isinstance(sizes, list) or not sizes or not all(isinstance(n, int) for n in sizes):
        raise ModelError(f"{path}: layer_sizes must be a non-empty list of integers")
    if not isinstance(config.get("vocab_size"), int):
        raise ModelError(f"{path}: vocab_size must be an integer")
    if "key_prior" in config and not _is_key_prior(config["key_prior"]):
        raise ModelError(f"{path}: key_prior must be 24 shares, none negative, not all zero")
    return config


def _is_key_prior(value: object) -> bool:
    if not isinstance(value, list) or len(value) != 24:
        return False
    numbers = all(isinstance(p, int | float) and not isinstance(p, bool) for p in value)
    return numbers and min(value) >= 0 and sum(value) > 0


def load_model(path: Path) -> tuple[dict[str, Any], Weights]:
    """Load `(config, weights)` from a model dir, its weights file, or a run dir (newest step).

    Weights are float32 numpy arrays named as in the module docstring. Never unpickles.

    Raises:
        ModelError: missing or corrupt files, another format or codec version, wrong shapes.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    model_dir = resolve_model_dir(Path(path))
    config = load_config(model_dir)
    weights_path = model_dir / WEIGHTS_FILE
    try:
        weights = load_file(str(weights_path))
    except FileNotFoundError as e:
        raise ModelError(f"{weights_path}: missing; the model dir is incomplete") from e
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"{weights_path}: corrupt weights file ({e}); re-export the model") from e
    _check_weights(config, weights, weights_path)
    return config, {k: v.astype(np.float32, copy=False) for k, v in weights.items()}


def _check_version(path: Path, config: Mapping[str, Any], key: str, want: int, what: str) -> None:
    got = config.get(key)
    if got != want:
        raise ModelError(
            f"{path}: {what} version {got!r}, but this chipline reads version {want}; "
            "use the chipline release that wrote it, or retrain/re-import the model"
        )


def _check_weights(config: dict[str, Any], weights: Mapping[str, np.ndarray], where: Path) -> None:
    shapes = expected_shapes(config)
    missing = sorted(set(shapes) - set(weights))
    extra = sorted(set(weights) - set(shapes))
    if missing or extra:
        raise ModelError(
            f"{where}: tensors do not match config.json (missing {missing}, unexpected {extra})"
        )
    for name, shape in shapes.items():
        array = weights[name]
        if tuple(array.shape) != shape:
            raise ModelError(f"{where}: {name} has shape {tuple(array.shape)}, expected {shape}")
        if not np.issubdtype(array.dtype, np.floating):
            raise ModelError(f"{where}: {name} has dtype {array.dtype}, expected float32")
        if not np.all(np.isfinite(array)):
            raise ModelError(f"{where}: {name} holds NaN or infinite values; the model is broken")
