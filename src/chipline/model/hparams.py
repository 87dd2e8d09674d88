"""Magenta's `--hparams="batch_size=64,rnn_layer_sizes=[128,128,128]"` strings, parsed once.

The result is a nested dict of TrainConfig keys, merged like a TOML table; unknown keys are
rejected with the list of accepted ones.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chipline.errors import ConfigError

# Magenta hparam -> (TrainConfig path, converter)
_KEYS: dict[str, tuple[tuple[str, ...], Any]] = {
    "batch_size": (("batch_size",), int),
    "rnn_layer_sizes": (("model", "layer_sizes"), lambda v: [int(n) for n in v]),
    "dropout_keep_prob": (("model", "dropout"), lambda v: 1.0 - float(v)),
    "clip_norm": (("clip_norm",), float),
    "learning_rate": (("learning_rate",), float),
    "initial_learning_rate": (("learning_rate",), float),  # Magenta's first polyphony config
    "decay_steps": (("decay_steps",), int),
    "decay_rate": (("decay_rate",), float),
}
# Magenta hparams accepted only at the value that matches what we build.
_FIXED = {"attn_length": 0, "residual_connections": False}
_IGNORED = ("use_cudnn",)  # an implementation choice; torch picks cuDNN on CUDA by itself


def parse_hparams(text: str) -> dict[str, Any]:
    """`"a=1,b=[2,3]"` -> nested TrainConfig overrides, e.g. {"model": {"layer_sizes": [2, 3]}}.

    Raises:
        ConfigError: malformed text, an unknown key, or a value we cannot honour.
    """
    out: dict[str, Any] = {}
    for item in _split(text):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--hparams: {item!r} is not key=value")
        value = _value(raw.strip(), key)
        if key in _FIXED:
            if value != _FIXED[key]:
                raise ConfigError(f"--hparams: {key}={raw} is not supported (only {_FIXED[key]})")
            continue
        if key in _IGNORED:
            continue
        if key not in _KEYS:
            valid = ", ".join(sorted([*_KEYS, *_FIXED, *_IGNORED]))
            raise ConfigError(f"--hparams: unknown key {key!r}; valid keys are: {valid}")
        path, convert = _KEYS[key]
        try:
            converted = convert(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"--hparams: bad value for {key}: {raw!r}") from e
        target = out
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = converted
    return out


def _split(text: str) -> list[str]:
    """Split on commas outside brackets."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current)
    return [i for i in items if i.strip()]


def _value(raw: str, key: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(re.sub(r"'", '"', raw))
    except json.JSONDecodeError:
        raise ConfigError(f"--hparams: cannot read the value of {key}: {raw!r}") from None
