"""Convert a Magenta polyphony_rnn checkpoint (run dir) or `.mag` bundle into a chipline model dir.

Magenta's BasicLSTMCell keeps one kernel (in + H, 4H) with rows inputs-first and column blocks
in gate order i, j, f, o, and adds forget_bias = 1.0 at run time. Torch's order is i, f, g, o
with separate input/recurrent matrices, so: reorder the blocks, split and transpose the kernel,
and fold the +1.0 into bias_ih's f block. No TensorFlow is needed (see tfreader.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from chipline.errors import ModelError
from chipline.model.checkpoint import model_config, save_model
from chipline.model.tfreader import _Corrupt, first, parse_proto, read_bundle, read_v1_checkpoint

VOCAB_SIZE = 259  # polyphony_rnn's one-hot size: START, END, STEP_END, 128 new, 128 continued
FORGET_BIAS = 1.0  # BasicLSTMCell's default, added at run time, not stored in the checkpoint
MAGENTA_DROPOUT = 0.5  # 1 - dropout_keep_prob of the polyphony config (not stored anywhere)
TF_TO_TORCH_GATES = (0, 2, 1, 3)  # torch block b takes TF block TF_TO_TORCH_GATES[b]
_CELL = "rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{kind}"
_FC_WEIGHTS, _FC_BIASES = "fully_connected/weights", "fully_connected/biases"


def import_magenta(source: Path, out_dir: Path) -> Path:
    """Convert a Magenta run dir, train dir, checkpoint prefix or `.mag` bundle into `out_dir`.

    Raises:
        ModelError: nothing loadable at `source`, a corrupt file, or not a polyphony_rnn model.
    """
    source = Path(source)
    tensors, origin = read_magenta(source)
    config, weights = convert(tensors, where=origin)
    config["training"] = {
        "source": "magenta polyphony_rnn",
        "magenta_checkpoint": origin,
        "global_step": int(tensors["global_step"]) if "global_step" in tensors else None,
    }
    return save_model(Path(out_dir), config, weights)


def read_magenta(source: Path) -> tuple[dict[str, np.ndarray], str]:
    """The checkpoint's tensors and a description of where they came from."""
    if source.is_file() and source.suffix == ".mag":
        return read_bundle_file(source), str(source)
    prefix = find_checkpoint(source)
    return read_bundle(prefix), str(prefix)


def find_checkpoint(source: Path) -> Path:
    """The V2 checkpoint prefix for a run dir, its `train/` dir, or a prefix itself."""
    if Path(f"{source}.index").is_file():
        return source
    for train_dir in (source / "train", source):
        state = train_dir / "checkpoint"
        if state.is_file():
            return _prefix_from_state(state, train_dir)
    raise ModelError(
        f"{source}: no Magenta checkpoint here (expected RUN_DIR/train/checkpoint, a "
        "model.ckpt-N prefix, or a .mag bundle)"
    )


def _prefix_from_state(state: Path, train_dir: Path) -> Path:
    match = re.search(r'^model_checkpoint_path:\s*"(.*)"', state.read_text(), re.M)
    if not match:
        raise ModelError(f"{state}: no model_checkpoint_path line; is training still starting?")
    named = Path(match.group(1))
    # Relative paths are relative to the train dir; absolute ones may point to another machine.
    for prefix in (named if named.is_absolute() else train_dir / named, train_dir / named.name):
        if Path(f"{prefix}.index").is_file():
            return prefix
    raise ModelError(
        f"{state}: names checkpoint {named}, but neither it nor {train_dir / named.name} "
        "has an .index file; copy the model.ckpt-N.* files next to it"
    )


def read_bundle_file(path: Path) -> dict[str, np.ndarray]:
    """The tensors of the V1 checkpoint embedded in a `.mag` GeneratorBundle."""
    try:
        bundle = parse_proto(path.read_bytes())
        details = parse_proto(first(bundle, 1, b""))  # type: ignore[arg-type]
        generator_id = bytes(first(details, 1, b"")).decode(errors="replace")  # type: ignore[call-overload]
    except OSError as e:
        raise ModelError(f"{path}: cannot read bundle ({e.strerror})") from e
    except _Corrupt as e:
        raise ModelError(f"{path}: not a Magenta .mag bundle ({e})") from e
    if generator_id != "polyphony":
        raise ModelError(
            f"{path}: a Magenta {generator_id or 'unknown'!r} bundle; only polyphony_rnn "
            "('polyphony') bundles can be imported"
        )
    checkpoints = bundle.get(2, [])
    if len(checkpoints) != 1:
        raise ModelError(f"{path}: bundle holds {len(checkpoints)} checkpoint files, expected 1")
    return read_v1_checkpoint(checkpoints[0], str(path))  # type: ignore[arg-type]


def convert(
    tensors: dict[str, np.ndarray], where: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Magenta variables -> (config, weights) in the chipline model format."""
    if _FC_WEIGHTS not in tensors or _cell_tensor(tensors, 0, "kernel") is None:
        names = ", ".join(sorted(n for n in tensors if "Adam" not in n)[:8])
        raise ModelError(
            f"{where}: not a Magenta polyphony_rnn (BasicLSTMCell) checkpoint; variables: {names}"
        )
    head = tensors[_FC_WEIGHTS]  # (H, V)
    if head.shape[1] != VOCAB_SIZE:
        raise ModelError(
            f"{where}: output size {head.shape[1]}, but polyphony_rnn has {VOCAB_SIZE} classes; "
            "is this another Magenta model (melody, drums)?"
        )
    weights: dict[str, np.ndarray] = {}
    layer_sizes: list[int] = []
    in_size = VOCAB_SIZE
    while (kernel := _cell_tensor(tensors, len(layer_sizes), "kernel")) is not None:
        k = len(layer_sizes)
        bias = _cell_tensor(tensors, k, "bias")
        hidden = kernel.shape[1] // 4
        if kernel.shape != (in_size + hidden, 4 * hidden) or bias is None:
            raise ModelError(f"{where}: cell_{k} kernel has shape {kernel.shape}; unexpected")
        weights.update(_convert_cell(kernel, bias, in_size, k))
        layer_sizes.append(hidden)
        in_size = hidden
    weights["head.weight"] = np.ascontiguousarray(head.T, np.float32)
    weights["head.bias"] = np.asarray(tensors[_FC_BIASES], np.float32)
    return model_config(layer_sizes, VOCAB_SIZE, MAGENTA_DROPOUT), weights


def _cell_tensor(tensors: dict[str, np.ndarray], k: int, kind: str) -> np.ndarray | None:
    # TF >= 1.1 names them kernel/bias; older checkpoints weights/biases.
    old = {"kernel": "weights", "bias": "biases"}[kind]
    for name in (_CELL.format(k=k, kind=kind), _CELL.format(k=k, kind=old)):
        if name in tensors:
            return tensors[name]
    return None


def _convert_cell(kernel: np.ndarray, bias: np.ndarray, in_size: int, k: int) -> dict:
    hidden = kernel.shape[1] // 4
    order = np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in TF_TO_TORCH_GATES])
    kernel = kernel[:, order]
    bias_ih = bias[order].astype(np.float32)
    bias_ih[hidden : 2 * hidden] += FORGET_BIAS
    return {
        f"lstm.weight_ih_l{k}": np.ascontiguousarray(kernel[:in_size].T, np.float32),
        f"lstm.weight_hh_l{k}": np.ascontiguousarray(kernel[in_size:].T, np.float32),
        f"lstm.bias_ih_l{k}": bias_ih,
        f"lstm.bias_hh_l{k}": np.zeros(4 * hidden, np.float32),
    }
