"""Magenta polyphony_rnn's network in torch: stacked LSTMs over one-hot events, output dropout.

Same function as Magenta's `MultiRNNCell([DropoutWrapper(BasicLSTMCell(n))...])` + linear head:
input is the one-hot of the current event, each layer's output passes dropout (also the top
layer's, before the head), and the logits at t predict the event at t+1. Weights convert 1:1 to
the model file format (`checkpoint.py`) and to the numpy forward pass (`infer.py`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from chipline.model.checkpoint import model_config

IGNORE_INDEX = -1  # target value of padded positions: no loss, no accuracy
# Layer 0's input is one-hot, so each event just selects one column of weight_ih_l0: an
# embedding. Glorot's +-0.08 makes that signal tiny, and the net then sits for hundreds of steps
# on the "always STEP_END" plateau (loss ~3.88) Magenta's own runs show. Columns drawn from
# +-4 leave it quickly: train loss after 120 steps (batch 64 x 128 events, lr 3e-3, Bach)
# 3.91 with Glorot, 2.72 with +-4 (+-1: 3.48, +-2: 2.87, +-8: ~2.7).
INPUT_INIT_LIMIT = 4.0


@dataclass(frozen=True)
class ModelConfig:
    """Network shape. Defaults are Magenta's `polyphony` config."""

    vocab_size: int = 259
    layer_sizes: tuple[int, ...] = (256, 256, 256)  # Magenta's rnn_layer_sizes
    dropout: float = 0.5  # drop probability = 1 - Magenta's dropout_keep_prob
    codec: str = "polyphony"  # the token codec (set from the dataset by `train`)
    key_prior: tuple[float, ...] = ()  # chip-voice: the dataset's header key shares (the same)


PRESETS: dict[str, ModelConfig] = {
    "magenta": ModelConfig(),
    "tiny": ModelConfig(layer_sizes=(64, 64), dropout=0.0),  # tests and smoke runs
}


class PolyphonyLSTM(nn.Module):
    """forward(idx (B, T) int64, targets (B, T) | None) -> (logits (B, T, V) float, loss | None)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        sizes = (cfg.vocab_size, *cfg.layer_sizes)
        self.layers = nn.ModuleList(
            nn.LSTM(n_in, n_out, batch_first=True)
            for n_in, n_out in zip(sizes, sizes[1:], strict=False)
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(sizes[-1], cfg.vocab_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Magenta's initialisation (Glorot-uniform over TF's [in + H, 4H] kernel, zero biases
        except +1.0 on the forget gate, which TF adds at run time), except layer 0's input
        columns: uniform in +-INPUT_INIT_LIMIT (see there)."""
        sizes = (self.cfg.vocab_size, *self.cfg.layer_sizes)
        for k, layer in enumerate(self.layers):
            n_in, hidden = sizes[k], sizes[k + 1]
            limit = math.sqrt(6.0 / (n_in + hidden + 4 * hidden))
            params = dict(layer.named_parameters())
            with torch.no_grad():
                in_limit = INPUT_INIT_LIMIT if k == 0 else limit
                params["weight_ih_l0"].uniform_(-in_limit, in_limit)
                params["weight_hh_l0"].uniform_(-limit, limit)
                params["bias_ih_l0"].zero_()
                params["bias_ih_l0"][hidden : 2 * hidden] = 1.0
                params["bias_hh_l0"].zero_()
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = F.one_hot(idx, self.cfg.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        for layer in self.layers:
            x, _ = layer(x)  # (B, T, H)
            x = self.drop(x)
        logits = self.head(x)  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(),
            targets.reshape(-1),
            ignore_index=IGNORE_INDEX,
        )
        return logits, loss

    def export_weights(self) -> dict[str, np.ndarray]:
        """float32 numpy tensors named as the model file format (`lstm.*_l{k}`, `head.*`)."""
        out = {}
        for k, layer in enumerate(self.layers):
            for name, param in layer.named_parameters():
                out["lstm." + name.replace("_l0", f"_l{k}")] = _to_numpy(param)
        out["head.weight"] = _to_numpy(self.head.weight)
        out["head.bias"] = _to_numpy(self.head.bias)
        return out

    def import_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load tensors named as the model file format (shapes already checked by load_model)."""
        with torch.no_grad():
            for k, layer in enumerate(self.layers):
                for name, param in layer.named_parameters():
                    param.copy_(torch.from_numpy(weights["lstm." + name.replace("_l0", f"_l{k}")]))
            self.head.weight.copy_(torch.from_numpy(weights["head.weight"]))
            self.head.bias.copy_(torch.from_numpy(weights["head.bias"]))

    def file_config(self, training: dict | None = None) -> dict:
        """The model file's config.json for this network."""
        return model_config(
            list(self.cfg.layer_sizes),
            self.cfg.vocab_size,
            self.cfg.dropout,
            training,
            codec=self.cfg.codec,
            key_prior=self.cfg.key_prior,
        )


def config_from_file(config: dict) -> ModelConfig:
    """The ModelConfig a model file's config.json describes."""
    return ModelConfig(
        vocab_size=int(config["vocab_size"]),
        layer_sizes=tuple(int(n) for n in config["layer_sizes"]),
        dropout=float(config.get("dropout", 0.0)),
        codec=str(config.get("codec", "polyphony")),
        key_prior=tuple(float(p) for p in config.get("key_prior", ())),
    )


def model_config_dict(cfg: ModelConfig) -> dict:
    """`cfg` as plain JSON-ready data."""
    data = asdict(cfg)
    data["layer_sizes"] = list(cfg.layer_sizes)
    return data


def _to_numpy(param: torch.Tensor) -> np.ndarray:
    return param.detach().to("cpu", torch.float32).numpy().copy()
