"""The dataset folder on disk: token arrays in .npz files, meta.json, and loading with checks.

Layout of `DATASET/`:
    meta.json                   format, codec and its version, vocabulary, config, counts, files
    training_poly_tracks.npz    tokens (uint16, all sequences end to end), offsets (int64, n+1),
    eval_poly_tracks.npz        piece (int32, n: index of the source file in meta["files"])
    report.jsonl                one line per rejected piece: file and reason
Sequence i is tokens[offsets[i]:offsets[i+1]]: a finished example that starts with START.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline import atomic
from chipline.encoding import chipvoice, polyphony
from chipline.errors import DatasetError

FORMAT = "chipline-dataset"
FORMAT_VERSION = 1
META_FILE = "meta.json"
REPORT_FILE = "report.jsonl"
SPLIT_FILES = {"train": "training_poly_tracks.npz", "eval": "eval_poly_tracks.npz"}
# codec name → (version, vocabulary size, steps per quarter) of the codecs a dataset may hold
CODECS = {
    polyphony.CODEC_NAME: (polyphony.CODEC_VERSION, polyphony.VOCAB_SIZE,
                           polyphony.STEPS_PER_QUARTER),
    chipvoice.CODEC_NAME: (chipvoice.CODEC_VERSION, chipvoice.VOCAB_SIZE,
                           chipvoice.STEPS_PER_QUARTER),
}  # fmt: skip


def dataset_meta(
    codec: str, config: dict[str, Any], names: list[str], flags: list[bool | None],
    counts: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The `meta.json` of a dataset of `codec` built from the files `names` with `config`;
    `flags[i]` is True where file i went to the eval split."""
    version, vocab_size, steps_per_quarter = CODECS[codec]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "codec": codec,
        "codec_version": version,
        "vocab_size": vocab_size,
        "steps_per_quarter": steps_per_quarter,
        "config": config,
        "counts": counts,
        "files": names,
        "eval_files": [n for n, f in zip(names, flags, strict=True) if f],
        "python": sys.version.split()[0],
    }


_REBUILD = "rebuild it with `chipline ingest MIDI_DIR --out DATASET`"


class Sequences:
    """The sequences of one split. `seqs[i]` is uint16, shape (length_i,), values < 259."""

    def __init__(
        self,
        tokens: npt.NDArray[np.uint16],
        offsets: npt.NDArray[np.int64],
        piece: npt.NDArray[np.int32],
    ) -> None:
        self.tokens, self.offsets, self.piece = tokens, offsets, piece

    def __len__(self) -> int:
        return self.offsets.size - 1

    def __getitem__(self, index: int) -> npt.NDArray[np.uint16]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"sequence {index} out of range ({len(self)} sequences)")
        index %= len(self)
        return self.tokens[self.offsets[index] : self.offsets[index + 1]]

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """int64, shape (n,): tokens per sequence."""
        return np.diff(self.offsets)

    @property
    def num_tokens(self) -> int:
        return int(self.tokens.size)


@dataclass(frozen=True)
class Dataset:
    path: Path
    meta: dict[str, Any]
    train: Sequences
    eval: Sequences

    @property
    def files(self) -> list[str]:
        return list(self.meta["files"])


def pack(seqs: Sequence[npt.NDArray[np.uint16]], pieces: Sequence[int]) -> Sequences:
    """Put sequences end to end."""
    lengths = np.array([s.size for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = np.concatenate(list(seqs)).astype(np.uint16) if seqs else np.zeros(0, np.uint16)
    return Sequences(tokens, offsets, np.asarray(pieces, dtype=np.int32))


def write_split(path: Path, seqs: Sequences) -> None:
    """Write one split atomically (a reader never sees half a file)."""
    with atomic.atomic_path(path, make_parents=True) as tmp, open(tmp, "wb") as f:
        np.savez(f, tokens=seqs.tokens, offsets=seqs.offsets, piece=seqs.piece)


def write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic.atomic_path(path, make_parents=True) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def write_report(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with atomic.atomic_path(path, make_parents=True) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_splits(
    out_dir: Path,
    seqs: dict[str, list[npt.NDArray[np.uint16]]],
    pieces: dict[str, list[int]],
    report: Sequence[dict[str, Any]],
    refusal: str,
) -> dict[str, Sequences]:
    """Write the rejection report and both splits; raise DatasetError(`refusal`) if both are
    empty (the report is written first, so the message can point at it)."""
    write_report(out_dir / REPORT_FILE, report)
    if not seqs["train"] and not seqs["eval"]:
        raise DatasetError(f"{refusal}; see {out_dir / REPORT_FILE} for the reason per file")
    packed = {split: pack(seqs[split], pieces[split]) for split in seqs}
    for split, file in SPLIT_FILES.items():
        write_split(out_dir / file, packed[split])
    return packed


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a dataset folder written by `chipline ingest`, checking format, codec and arrays.

    Raises:
        DatasetError: the folder or a file is missing, corrupt, or of another format/codec version.
    """
    path = Path(path)
    meta = _read_meta(path)
    splits = {name: _read_split(path / file, meta) for name, file in SPLIT_FILES.items()}
    for name, seqs in splits.items():
        if seqs.piece.size and (seqs.piece.min() < 0 or seqs.piece.max() >= len(meta["files"])):
            raise DatasetError(f"{path / SPLIT_FILES[name]}: piece index out of range; {_REBUILD}")
    return Dataset(path, meta, splits["train"], splits["eval"])


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder; create one with `chipline ingest`")
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DatasetError(f"{path}: not a dataset (no {META_FILE}); {_REBUILD}") from e
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path / META_FILE}: unreadable ({e}); {_REBUILD}") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DatasetError(f"{path / META_FILE}: not a chipline dataset; {_REBUILD}")
    codec = meta.get("codec") if meta.get("codec") in CODECS else polyphony.CODEC_NAME
    expected = {
        "format_version": FORMAT_VERSION,
        "codec": codec,
        "codec_version": CODECS[str(codec)][0],
        "vocab_size": CODECS[str(codec)][1],
    }
    for key, want in expected.items():
        if meta.get(key) != want:
            raise DatasetError(
                f"{path}: dataset has {key} {meta.get(key)!r} but this chipline reads {want!r}; "
                f"{_REBUILD}"
            )
    if not isinstance(meta.get("files"), list):
        raise DatasetError(f"{path / META_FILE}: no file list; {_REBUILD}")
    return meta


def _read_split(file: Path, meta: dict[str, Any]) -> Sequences:
    try:
        with open(file, "rb") as f, np.load(f, allow_pickle=False) as npz:
            tokens, offsets, piece = npz["tokens"], npz["offsets"], npz["piece"]
    except FileNotFoundError as e:
        raise DatasetError(f"{file}: missing; {_REBUILD}") from e
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"{file}: corrupt ({e}); {_REBUILD}") from e
    problem = _check_arrays(tokens, offsets, piece, int(meta["vocab_size"]))
    if problem:
        raise DatasetError(f"{file}: corrupt ({problem}); {_REBUILD}")
    return Sequences(tokens, offsets, piece)


def _check_arrays(tokens: np.ndarray, offsets: np.ndarray, piece: np.ndarray, vocab: int) -> str:
    if tokens.dtype != np.uint16 or offsets.dtype != np.int64 or piece.dtype != np.int32:
        return f"dtypes {tokens.dtype}/{offsets.dtype}/{piece.dtype}, expected uint16/int64/int32"
    if tokens.ndim != 1 or offsets.ndim != 1 or offsets.size < 1 or piece.size != offsets.size - 1:
        return "array shapes do not fit together"
    if offsets[0] != 0 or offsets[-1] != tokens.size or np.any(np.diff(offsets) < 1):
        return "offsets are not increasing from 0 to the number of tokens"
    if tokens.size and int(tokens.max()) >= vocab:
        return f"token {int(tokens.max())} outside the vocabulary of {vocab}"
    return ""
