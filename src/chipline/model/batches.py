"""Training batches: pieces cut into windows, bucketed by length, in a seeded, resumable order.

An epoch's plan depends only on (seed, epoch), so a run resumes at (epoch, batch index) exactly.
Window k of a piece covers tokens[s_k : s_{k+1} + 1]: every (input, target) pair of the piece
appears in exactly one window per epoch; the first cut moves randomly each epoch.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline.errors import DatasetError

IGNORE_INDEX = -1  # target of padded positions
VOCAB_SIZE = 259
_REBUILD = "rebuild it with `chipline ingest MIDI_DIR --out DATASET`"


@dataclass(frozen=True)
class Split:
    """One split: `tokens` uint16 (N,) end to end, `offsets` int64 (n + 1,)."""

    tokens: npt.NDArray[np.uint16]
    offsets: npt.NDArray[np.int64]

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)


def fingerprint(split: Split) -> dict[str, int]:
    """What identifies a split: its sequence and token counts and a CRC-32 of its tokens."""
    tokens = np.ascontiguousarray(split.tokens)
    return {"sequences": int(split.lengths.size), "tokens": int(tokens.size),
            "crc32": zlib.crc32(tokens.view(np.uint8).data)}  # fmt: skip


def load_splits(path: Path) -> tuple[Split, Split]:
    """(train, eval) of a dataset folder written by `chipline ingest`.

    Raises:
        DatasetError: missing or corrupt files, another format or codec version.
    """
    from chipline.dataset import load_dataset

    data = load_dataset(path)
    vocab_size = int(data.meta.get("vocab_size", VOCAB_SIZE))
    return (
        _checked(data.train.tokens, data.train.offsets, path, vocab_size),
        _checked(data.eval.tokens, data.eval.offsets, path, vocab_size),
    )


def dataset_model_fields(path: Path) -> dict[str, Any]:
    """The `ModelConfig` fields a dataset folder sets, from its meta.json: the codec, the
    vocabulary size and (chip-voice) the header key prior."""
    from chipline.dataset import load_dataset

    meta = load_dataset(path).meta
    return {"codec": str(meta["codec"]), "vocab_size": int(meta["vocab_size"]),
            "key_prior": tuple(float(p) for p in meta.get("key_prior", ()))}  # fmt: skip


def _checked(
    tokens: np.ndarray, offsets: np.ndarray, where: Path, vocab_size: int = VOCAB_SIZE
) -> Split:
    tokens, offsets = np.asarray(tokens), np.asarray(offsets, np.int64)
    ok = offsets.ndim == 1 and offsets.size >= 1 and offsets[0] == 0
    ok = ok and offsets[-1] == tokens.size and bool(np.all(np.diff(offsets) >= 0))
    if not ok or (tokens.size and int(tokens.max()) >= vocab_size):
        raise DatasetError(f"{where}: inconsistent tokens/offsets; {_REBUILD}")
    return Split(tokens.astype(np.uint16, copy=False), offsets)


def epoch_plan(
    lengths: npt.NDArray[np.int64], batch_size: int, window: int, seed: int, epoch: int
) -> list[npt.NDArray[np.int64]]:
    """The batches of one epoch; each is int64 (b, 3) rows (sequence, start, stop) of tokens.

    Windows of similar length share a batch (little padding); batch order is shuffled.
    `window` <= 0 keeps whole pieces, as Magenta does.
    """
    rng = np.random.default_rng([seed, epoch])
    rows = []
    for seq, length in enumerate(lengths.tolist()):
        if length < 2:
            continue
        if window <= 0 or length <= window + 1:
            rows.append((seq, 0, length))
            continue
        cuts = [0, *range(int(rng.integers(1, window + 1)), length - 1, window), length - 1]
        rows.extend((seq, a, b + 1) for a, b in zip(cuts, cuts[1:], strict=False) if b > a)
    chunks = np.array(rows, np.int64).reshape(-1, 3)
    order = np.lexsort((rng.random(len(chunks)), chunks[:, 2] - chunks[:, 1]))
    batches = [chunks[order[i : i + batch_size]] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(
    split: Split, rows: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Inputs and targets int64 (b, T) for `rows`; targets are IGNORE_INDEX past each window."""
    width = int((rows[:, 2] - rows[:, 1]).max()) - 1
    inputs = np.zeros((len(rows), width), np.int64)
    targets = np.full((len(rows), width), IGNORE_INDEX, np.int64)
    for r, (seq, start, stop) in enumerate(rows.tolist()):
        base = int(split.offsets[seq])
        window = split.tokens[base + start : base + stop]
        inputs[r, : window.size - 1] = window[:-1]
        targets[r, : window.size - 1] = window[1:]
    return inputs, targets


def eval_plan(lengths: npt.NDArray[np.int64], max_events: int) -> list[npt.NDArray[np.int64]]:
    """Whole pieces sorted by length, batched up to ~`max_events` padded positions each."""
    batches: list[npt.NDArray[np.int64]] = []
    current: list[tuple[int, int, int]] = []
    for seq in np.argsort(lengths, kind="stable").tolist():
        if lengths[seq] < 2:
            continue
        if current and (len(current) + 1) * int(lengths[seq]) > max_events:
            batches.append(np.array(current, np.int64))
            current = []
        current.append((seq, 0, int(lengths[seq])))
    if current:
        batches.append(np.array(current, np.int64))
    return batches
