"""MIDI folder → a chip-voice dataset: arranged, split at meter changes, windowed, augmented.

Each file is arranged for every chip in `chips`, cut where the meter changes, then into windows
of at most `max_bars` bars. Each window is encoded (key estimate, LOOP header) transposed by
`transpose_min..transpose_max` (the codec's `normalize` folds pitches into the voice ranges) and,
for the train split, also rotated by `num_rotations` random whole-bar cyclic shifts, so the model
sees the end of a window run on into its beginning. The folder layout is `store`'s; its meta
also holds `key_prior`, the share of each header key (KEY_0..KEY_23) among the training windows
before transposition, which transposition hides from the model (see `model_controls`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chipline.arrange import ArrangeConfig, arrange
from chipline.chip import VOICES, ChipName, ChipNote, ChipScore
from chipline.dataset import store
from chipline.dataset.build import eval_flags, find_midi_files
from chipline.dataset.pieces import DatasetConfig
from chipline.encoding import chipvoice as cv
from chipline.errors import ChiplineError, ConfigError
from chipline.score import (
    Song,
    Tempo,
    TimeSignature,
    bar_length_ticks,
    meter_changes,
    read_midi,
    tempo_at,
)


@dataclass(frozen=True)
class ChipVoiceDatasetConfig:
    """How `chipline ingest --codec chipvoice` turns MIDI into chip-voice sequences."""

    chips: tuple[ChipName, ...] = ("nes",)
    max_bars: int = 16
    min_bars: int = 2
    min_notes: int = 4  # pitched notes a window needs to be kept
    transpose_min: int = -4
    transpose_max: int = 4
    num_rotations: int = 1  # extra copies per window, each rotated by a random number of bars
    eval_ratio: float = 0.10
    split_seed: int = 0
    split_file: str = ""
    recursive: bool = False
    num_workers: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.min_bars <= self.max_bars <= cv.MAX_BARS:
            raise ConfigError(f"dataset: need 1 <= min_bars <= max_bars <= {cv.MAX_BARS}")
        if self.transpose_min > self.transpose_max or self.num_rotations < 0:
            raise ConfigError("dataset: transpose_min above transpose_max, or num_rotations < 0")
        if not self.chips or any(c not in cv.CHIPS for c in self.chips):
            raise ConfigError(f"dataset: chips must be some of {', '.join(cv.CHIPS)}")


@dataclass
class _FileResult:
    sequences: list[npt.NDArray[np.uint16]] = field(default_factory=list)
    num_windows: int = 0
    keys: list[int] = field(default_factory=list)  # header key index of each window
    rejects: list[dict[str, object]] = field(default_factory=list)


def windows(score: ChipScore, max_bars: int) -> Iterator[ChipScore]:
    """The score cut where the meter changes, then into windows of at most `max_bars` whole bars.

    A time signature that repeats the meter in force (as at a repeat sign) is no change. Each
    window has one meter, the tempo in force at its start, loop start 0, and its notes shifted
    to start at tick 0 (a note is kept in the window it starts in, cut at its end).
    """
    sigs = meter_changes(score.time_signatures)
    for k, sig in enumerate(sigs):
        stop = sigs[k + 1].tick if k + 1 < len(sigs) else score.end_tick
        bar = bar_length_ticks(sig, score.ticks_per_beat)
        for start in range(sig.tick, stop, max_bars * bar):
            num_bars = min(max_bars, -(-(stop - start) // bar))
            yield _cut(
                score, start, num_bars * bar, TimeSignature(0, sig.numerator, sig.denominator)
            )


def _cut(score: ChipScore, start: int, length: int, sig: TimeSignature) -> ChipScore:
    notes = tuple(
        replace(n, start_tick=n.start_tick - start, end_tick=min(n.end_tick - start, length))
        for n in score.notes
        if start <= n.start_tick < start + length
    )
    tempo = replace(_tempo_at(score, start), tick=0)
    return replace(score, notes=notes, tempos=(tempo,), time_signatures=(sig,), end_tick=length,
                   loop_start_tick=0)  # fmt: skip


def _tempo_at(score: ChipScore, tick: int) -> Tempo:
    return tempo_at(Song(score.ticks_per_beat, tempos=score.tempos), tick)


def rotate(score: ChipScore, num_bars: int) -> ChipScore:
    """The window with its last `num_bars` bars moved to the front (a cyclic shift).

    A note that would run past the new end is cut there.
    """
    sig = score.time_signatures[0]
    shift = num_bars * bar_length_ticks(sig, score.ticks_per_beat)
    length = score.end_tick
    moved = []
    for n in score.notes:
        start = (n.start_tick + shift) % length
        moved.append(
            replace(n, start_tick=start, end_tick=min(start + n.end_tick - n.start_tick, length))
        )
    return replace(score, notes=tuple(sorted(moved, key=lambda n: n.start_tick)))


def transpose(score: ChipScore, semitones: int) -> ChipScore:
    """Pitched notes moved by `semitones` (the noise keeps its periods)."""
    return replace(
        score,
        notes=tuple(
            n if VOICES[n.voice].kind == "noise" else _moved(n, semitones) for n in score.notes
        ),
    )


def _moved(note: ChipNote, semitones: int) -> ChipNote:
    return replace(note, pitches=tuple(min(max(p + semitones, 0), 127) for p in note.pitches))


def process_file(path: Path, is_eval: bool, index: int, cfg: ChipVoiceDatasetConfig) -> _FileResult:
    """Arrange, window, augment and encode one file. Never raises for a bad file."""
    result = _FileResult()
    try:
        song = read_midi(path)
        scores = [arrange(song, ArrangeConfig(chip=chip)) for chip in cfg.chips]
    except ChiplineError as e:
        result.rejects.append({"reason": "unreadable", "detail": str(e)})
        return result
    rng = np.random.default_rng([cfg.split_seed, index])
    for score in scores:
        for number, window in enumerate(windows(score, cfg.max_bars)):
            reason = _reject_reason(window, cfg)
            if reason:
                result.rejects.append({"window": number, "chip": score.chip, "reason": reason})
                continue
            result.num_windows += 1
            result.keys.append(cv.header_of(cv.normalize(window, True), True).key.index)
            result.sequences.extend(_augmented(window, is_eval, cfg, rng))
    return result


def _reject_reason(window: ChipScore, cfg: ChipVoiceDatasetConfig) -> str:
    sig = window.time_signatures[0]
    if cv.codec_meter(sig.meter) is None:
        return "unsupported_meter"
    if window.end_tick < cfg.min_bars * bar_length_ticks(sig, window.ticks_per_beat):
        return "too_short"
    if sum(VOICES[n.voice].kind != "noise" for n in window.notes) < cfg.min_notes:
        return "too_few_notes"
    return ""


def _augmented(
    window: ChipScore, is_eval: bool, cfg: ChipVoiceDatasetConfig, rng: np.random.Generator
) -> list[npt.NDArray[np.uint16]]:
    sig = window.time_signatures[0]
    num_bars = window.end_tick // bar_length_ticks(sig, window.ticks_per_beat)
    variants = [window]
    if not is_eval and num_bars > 1:
        variants += [
            rotate(window, int(rng.integers(1, num_bars))) for _ in range(cfg.num_rotations)
        ]
    out = []
    for variant in variants:
        for amount in range(cfg.transpose_min, cfg.transpose_max + 1):
            out.append(cv.encode(transpose(variant, amount), loop=True))
    return out


def build_chipvoice_dataset(
    input_dir: Path, out_dir: Path, cfg: ChipVoiceDatasetConfig
) -> dict[str, Any]:
    """Turn the MIDI files under `input_dir` into a chip-voice dataset in `out_dir`.

    Raises:
        DatasetError: no MIDI files, or not a single usable window (the report says why).
    """
    files = find_midi_files(input_dir, cfg.recursive)
    names = [p.relative_to(input_dir).as_posix() for p in files]
    split = DatasetConfig(eval_ratio=cfg.eval_ratio, split_seed=cfg.split_seed,
                          split_file=cfg.split_file)  # fmt: skip
    flags = eval_flags(names, split)
    tasks = [(i, files[i], flag) for i, flag in enumerate(flags) if flag is not None]
    seqs: dict[str, list[npt.NDArray[np.uint16]]] = {"train": [], "eval": []}
    pieces: dict[str, list[int]] = {"train": [], "eval": []}
    report: list[dict[str, Any]] = []
    num_windows = 0
    keys = np.zeros(24)
    for (index, _, is_eval), result in zip(tasks, _run(tasks, cfg), strict=True):
        side = "eval" if is_eval else "train"
        if not is_eval:
            np.add.at(keys, result.keys, 1)
        seqs[side].extend(result.sequences)
        pieces[side].extend([index] * len(result.sequences))
        report.extend({"file": names[index], "split": side, **r} for r in result.rejects)
        num_windows += result.num_windows
    refusal = f"{input_dir}: none of the {len(files)} MIDI files gave a usable window"
    packed = store.write_splits(out_dir, seqs, pieces, report, refusal)
    counts = {
        "files": len(files),
        "files_read": len(tasks) - sum(r["reason"] == "unreadable" for r in report),
        "parts": num_windows,
        "windows": num_windows,
        "rejected": dict(Counter(str(r["reason"]) for r in report)),
        "train_sequences": len(packed["train"]),
        "eval_sequences": len(packed["eval"]),
        "train_tokens": packed["train"].num_tokens,
        "eval_tokens": packed["eval"].num_tokens,
    }
    meta = store.dataset_meta(cv.CODEC_NAME, asdict(cfg), names, flags, counts)
    if keys.sum():
        meta["key_prior"] = (keys / keys.sum()).round(6).tolist()
    store.write_json(out_dir / store.META_FILE, meta)
    return counts


def _run(tasks: list[tuple[int, Path, bool]], cfg: ChipVoiceDatasetConfig) -> Iterator[_FileResult]:
    workers = min(cfg.num_workers or os.cpu_count() or 1, len(tasks))
    work = partial(_task, cfg=cfg)
    if workers <= 1:
        yield from map(work, tasks)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        yield from pool.map(work, tasks, chunksize=max(1, len(tasks) // (workers * 8)))


def _task(task: tuple[int, Path, bool], cfg: ChipVoiceDatasetConfig) -> _FileResult:
    index, path, is_eval = task
    return process_file(path, is_eval, index, cfg)
