"""The LSTM forward pass in numpy (no torch): step by step for sampling, whole sequences at once.

Equations per layer k (torch's nn.LSTM, gate order i, f, g, o):
    z = W_ih x + b_ih + W_hh h + b_hh;  i, f, g, o = split(z, 4)
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
Layer 0's input x is the one-hot of the current token, so W_ih x is a column gather.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline.errors import EncodingError

F32 = npt.NDArray[np.float32]
State = list[tuple[F32, F32]]  # per layer (h, c), each float32 (B, H)


def _sigmoid(x: F32) -> F32:
    # The tanh form never overflows (np.exp(-x) would warn for x < -88 in float32).
    return np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0))


class NumpyLSTM:
    """A stacked one-hot-input LSTM with a linear head, from `load_model`'s (config, weights)."""

    def __init__(self, config: Mapping[str, Any], weights: Mapping[str, np.ndarray]) -> None:
        self.vocab_size = int(config["vocab_size"])
        self.codec = str(config.get("codec", "polyphony"))  # the token layout it reads
        self.layer_sizes = [int(n) for n in config["layer_sizes"]]
        # chip-voice: the training data's header key shares, or none
        self.key_prior = np.asarray(config.get("key_prior", []), dtype=np.float64)
        f32 = np.float32
        # Transposed copies so every product is (B, in) @ (in, 4H), contiguous in memory.
        self._w_in = [np.ascontiguousarray(weights[f"lstm.weight_ih_l{k}"].T, dtype=f32)
                      for k in range(len(self.layer_sizes))]  # fmt: skip
        self._w_hh = [np.ascontiguousarray(weights[f"lstm.weight_hh_l{k}"].T, dtype=f32)
                      for k in range(len(self.layer_sizes))]  # fmt: skip
        self._bias = [
            (weights[f"lstm.bias_ih_l{k}"] + weights[f"lstm.bias_hh_l{k}"]).astype(f32)
            for k in range(len(self.layer_sizes))
        ]
        self._w_head = np.ascontiguousarray(weights["head.weight"].T, dtype=f32)  # (H, V)
        self._b_head = np.asarray(weights["head.bias"], dtype=f32)  # (V,)
        # Layer 0's input projection + bias per token: row t is W_ih[:, t] + b.
        self._embed0 = self._w_in[0] + self._bias[0]  # (V, 4H)

    def initial_state(self, batch_size: int) -> State:
        """The zero state: per layer (h, c), float32 (batch_size, H)."""
        return [
            (np.zeros((batch_size, n), np.float32), np.zeros((batch_size, n), np.float32))
            for n in self.layer_sizes
        ]

    def step(self, tokens: npt.ArrayLike, state: State) -> tuple[F32, State]:
        """Consume one token per row; `tokens` int (B,) in [0, V). Returns logits float32 (B, V)."""
        idx = self._check_tokens(tokens, ndim=1)
        new_state: State = []
        x_proj = self._embed0[idx]  # (B, 4H)
        h_below = np.empty((0,), np.float32)
        for k, (h, c) in enumerate(state):
            if k > 0:
                x_proj = h_below @ self._w_in[k] + self._bias[k]
            h_below, c = self._cell(x_proj + h @ self._w_hh[k], c)
            new_state.append((h_below, c))
        return h_below @ self._w_head + self._b_head, new_state

    def forward(self, tokens: npt.ArrayLike, state: State | None = None) -> F32:
        """Logits float32 (B, T, V) for tokens int (B, T) from `state` (zero if None).

        Runs layer by layer: each layer's input projection is one matmul over all T positions,
        so only the recurrent product stays inside the time loop.
        """
        idx = self._check_tokens(tokens, ndim=2)
        batch_size, num_steps = idx.shape
        state = state if state is not None else self.initial_state(batch_size)
        x_proj = self._embed0[idx]  # (B, T, 4H)
        x_seq = np.empty((0,), np.float32)
        for k, (h, c) in enumerate(state):
            if k > 0:
                x_proj = x_seq @ self._w_in[k] + self._bias[k]  # (B, T, 4H)
            x_seq = np.empty((batch_size, num_steps, self.layer_sizes[k]), np.float32)
            for t in range(num_steps):
                h, c = self._cell(x_proj[:, t] + h @ self._w_hh[k], c)
                x_seq[:, t] = h
        return x_seq @ self._w_head + self._b_head

    def _cell(self, z: F32, c: F32) -> tuple[F32, F32]:
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c

    def _check_tokens(self, tokens: npt.ArrayLike, ndim: int) -> npt.NDArray[np.intp]:
        idx = np.asarray(tokens)
        if idx.ndim != ndim or not np.issubdtype(idx.dtype, np.integer):
            raise EncodingError(f"tokens must be an integer array of {ndim} dims, got {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.vocab_size):
            raise EncodingError(
                f"token ids must be in [0, {self.vocab_size}); got {idx.min()}..{idx.max()}"
            )
        return idx.astype(np.intp, copy=False)
