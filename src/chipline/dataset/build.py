"""MIDI folder to dataset folder: find files, split by piece, encode in parallel, write, report."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from chipline.dataset import store
from chipline.dataset.pieces import DatasetConfig, FileResult, process_file
from chipline.encoding import polyphony
from chipline.errors import DatasetError

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")

Progress = Callable[[int, int], None]  # called with (files done, files in all)


def find_midi_files(folder: Path, recursive: bool) -> list[Path]:
    """MIDI files in `folder` (and below it when `recursive`), sorted by relative path.

    Raises:
        DatasetError: the folder is missing or holds no MIDI file.
    """
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder; give a folder of .mid files")
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES
    )
    if not files:
        hint = ""
        if not recursive and any(
            p.suffix.lower() in MIDI_SUFFIXES for p in folder.glob("**/*") if p.is_file()
        ):
            hint = "; its sub-folders have some: add --recursive"
        raise DatasetError(f"{folder}: no MIDI files (.mid, .midi) found{hint}")
    return files


def eval_flags(names: list[str], cfg: DatasetConfig) -> list[bool | None]:
    """Which files go to the eval split (None: left out by the split file).

    Without a split file the choice hashes the seed and the file's relative path, so a file keeps
    its side from run to run and when other files are added.
    """
    if cfg.split_file:
        listed = _read_split_file(Path(cfg.split_file))
        return [_listed_side(name, listed) for name in names]
    flags: list[bool | None] = []
    for name in names:
        digest = hashlib.sha256(f"{cfg.split_seed}\0{name}".encode()).digest()
        flags.append(int.from_bytes(digest[:8], "big") / 2**64 < cfg.eval_ratio)
    return flags


def _read_split_file(path: Path) -> dict[str, set[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {side: set(data[side]) for side in ("train", "eval")}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(
            f"{path}: cannot use as split file ({e}); expected JSON "
            '{"train": [file names], "eval": [file names]}'
        ) from e


def _listed_side(name: str, listed: dict[str, set[str]]) -> bool | None:
    for key in (name, Path(name).name):
        if key in listed["eval"]:
            return True
        if key in listed["train"]:
            return False
    return None


def build_dataset(
    input_dir: Path, out_dir: Path, cfg: DatasetConfig, progress: Progress | None = None
) -> dict[str, Any]:
    """Turn the MIDI files under `input_dir` into a dataset in `out_dir`; return its counts.

    Raises:
        DatasetError: no MIDI files, or not a single usable piece (the report says why).
    """
    files = find_midi_files(input_dir, cfg.recursive)
    names = [p.relative_to(input_dir).as_posix() for p in files]
    flags = eval_flags(names, cfg)
    seqs: dict[str, list[np.ndarray]] = {"train": [], "eval": []}
    pieces: dict[str, list[int]] = {"train": [], "eval": []}
    report: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    tasks = [(i, files[i], flag) for i, flag in enumerate(flags) if flag is not None]
    for i, name in enumerate(names):
        if flags[i] is None:
            report.append({"file": name, "reason": "not_in_split_file", "detail": cfg.split_file})
    for (index, _, is_eval), result in zip(tasks, _run(tasks, cfg, progress), strict=True):
        split = "eval" if is_eval else "train"
        ends = np.cumsum(result.lengths)
        seqs[split].extend(np.split(result.tokens, ends[:-1]) if result.lengths else [])
        pieces[split].extend([index] * len(result.lengths))
        report.extend({"file": names[index], "split": split, **r} for r in result.rejects)
        totals.update(
            files_read=int(not any(r["reason"] == "unreadable" for r in result.rejects)),
            parts=result.num_parts,
            windows=result.num_windows,
            transpositions_out_of_range=result.num_transpositions_skipped,
        )
    refusal = f"{input_dir}: none of the {len(files)} MIDI files gave a usable piece"
    packed = store.write_splits(out_dir, seqs, pieces, report, refusal)
    counts = _counts(len(files), totals, report, packed)
    meta = store.dataset_meta(polyphony.CODEC_NAME, asdict(cfg), names, flags, counts)
    store.write_json(out_dir / store.META_FILE, meta)
    return counts


def _run(
    tasks: list[tuple[int, Path, bool]], cfg: DatasetConfig, progress: Progress | None
) -> Iterator[FileResult]:
    work = partial(_process_task, cfg=cfg)
    workers = min(cfg.num_workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        for done, task in enumerate(tasks, 1):
            yield work(task)
            if progress:
                progress(done, len(tasks))
        return
    # fork starts workers at once on Linux; elsewhere (macOS system libraries) it is unsafe.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        for done, result in enumerate(pool.map(work, tasks, chunksize=chunk), 1):
            yield result
            if progress:
                progress(done, len(tasks))


def _process_task(task: tuple[int, Path, bool], cfg: DatasetConfig) -> FileResult:
    _, path, is_eval = task
    return process_file(path, is_eval, cfg)


def _counts(
    num_files: int,
    totals: Counter[str],
    report: list[dict[str, Any]],
    packed: dict[str, store.Sequences],
) -> dict[str, Any]:
    return {
        "files": num_files,
        **dict(totals),
        "rejected": dict(Counter(r["reason"] for r in report)),
        "train_sequences": len(packed["train"]),
        "eval_sequences": len(packed["eval"]),
        "train_tokens": packed["train"].num_tokens,
        "eval_tokens": packed["eval"].num_tokens,
    }
