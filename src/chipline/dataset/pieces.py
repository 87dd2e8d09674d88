"""One MIDI file to training sequences: Magenta's pipeline steps, with its limits as settings.

The steps follow Magenta's polyphony_rnn dataset pipeline: split the piece wherever the tempo or
time signature changes, quantise each part to 16th steps, keep parts of `min_steps` to
`max_steps` steps, encode, and transpose by every amount in `transpose_min..transpose_max` that
keeps all pitches inside 0..127. Differences, each a setting: a part longer than `max_steps` is
cut into windows instead of dropped (`long_pieces`); parts with several MIDI programs are kept
(`single_program`); drum notes are left out (`keep_drums`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from chipline.encoding import polyphony
from chipline.errors import ConfigError, MidiFileError
from chipline.score import Song, meter_changes, read_midi


@dataclass(frozen=True)
class DatasetConfig:
    """How `chipline ingest` turns MIDI into sequences; TOML table `[dataset]`."""

    min_steps: int = 80  # Magenta's polyphony pipeline keeps 80..512 steps
    max_steps: int = 512
    long_pieces: Literal["window", "discard"] = "window"  # Magenta: discard
    transpose_min: int = -4
    transpose_max: int = 4
    transpose_eval: bool = True  # Magenta transposes the eval split as well
    eval_ratio: float = 0.10
    split_seed: int = 0
    split_file: str = ""  # JSON {"train": [...], "eval": [...]} of file names; overrides the ratio
    single_program: bool = False  # Magenta: True (drops parts that use more than one program)
    keep_drums: bool = False
    recursive: bool = False
    num_workers: int = 0  # 0: one per CPU

    def __post_init__(self) -> None:
        if not 1 <= self.min_steps <= self.max_steps:
            raise ConfigError(
                f"dataset: need 1 <= min_steps <= max_steps, got {self.min_steps}, {self.max_steps}"
            )
        if self.transpose_min > self.transpose_max:
            raise ConfigError("dataset: transpose_min is above transpose_max")
        if not 0.0 <= self.eval_ratio <= 1.0:
            raise ConfigError(f"dataset: eval_ratio must be in 0..1, got {self.eval_ratio}")
        if self.num_workers < 0:
            raise ConfigError("dataset: num_workers must be 0 (automatic) or more")


@dataclass
class FileResult:
    """What one file gave: sequences end to end, their lengths, and the rejected pieces."""

    tokens: npt.NDArray[np.uint16]
    lengths: list[int] = field(default_factory=list)
    num_parts: int = 0
    num_windows: int = 0
    num_transpositions_skipped: int = 0
    rejects: list[dict[str, object]] = field(default_factory=list)


def process_file(path: Path, is_eval: bool, cfg: DatasetConfig) -> FileResult:
    """Read, split, quantise, encode and transpose one file. Never raises for a bad file."""
    result = FileResult(np.zeros(0, np.uint16))
    try:
        song = read_midi(path)
    except MidiFileError as e:
        result.rejects.append({"reason": "unreadable", "detail": str(e)})
        return result
    pieces: list[npt.NDArray[np.uint16]] = []
    parts = split_parts(song, cfg.keep_drums)
    result.num_parts = len(parts)
    for index, (notes, num_steps) in enumerate(parts):
        reason = _reject_reason(notes, num_steps, cfg)
        if reason:
            result.rejects.append({"part": index, "reason": reason[0], "detail": reason[1]})
            continue
        for start, stop in _windows(num_steps, cfg.max_steps):
            if stop - start < cfg.min_steps:
                detail = f"last window of {stop - start} steps < min_steps {cfg.min_steps}"
                result.rejects.append({"part": index, "reason": "too_short", "detail": detail})
                continue
            result.num_windows += 1
            base = _encode_window(notes, start, stop)
            amounts = range(cfg.transpose_min, cfg.transpose_max + 1)
            for amount in (0,) if is_eval and not cfg.transpose_eval else amounts:
                moved = polyphony.transpose(base, amount)
                if moved is None:
                    result.num_transpositions_skipped += 1
                else:
                    pieces.append(moved)
    if pieces:
        result.tokens = np.concatenate(pieces)
        result.lengths = [p.size for p in pieces]
    return result


Notes = npt.NDArray[np.int64]  # shape (n, 4): start_step, end_step, pitch, program


def split_parts(song: Song, keep_drums: bool = False) -> list[tuple[Notes, int]]:
    """Cut `song` where tempo or time signature changes; quantise each part to 16th steps.

    Returns one `(notes, num_steps)` per part, notes as int64 (n, 4) rows of start step, end
    step, pitch, program. As in Magenta: a note belongs to the part it starts in and is cut at
    the part's end; times round to the nearest step (halves up) and a note that would vanish
    lasts one step; a part lasts to the end of its last note (a rest before a cut is dropped).
    """
    tpb = song.ticks_per_beat
    cuts = _time_change_ticks(song)
    rows = np.array(
        [
            (n.start_tick, n.end_tick, n.pitch, n.program)
            for n in song.notes
            if keep_drums or not n.is_drum
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    last_tick = int(rows[:, 1].max()) if rows.size else 0
    bounds = [0, *cuts, max(last_tick, cuts[-1] if cuts else 0)]
    parts = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        inside = rows[(rows[:, 0] >= a) & ((rows[:, 0] < b) | (k == len(bounds) - 2))]
        ticks = np.minimum(inside[:, :2], b) - a
        steps = (2 * ticks * polyphony.STEPS_PER_QUARTER + tpb) // (2 * tpb)
        steps[:, 1] = np.maximum(steps[:, 1], steps[:, 0] + 1)
        notes = np.column_stack([steps, inside[:, 2:]])
        num_steps = int(steps[:, 1].max()) if steps.size else 0
        parts.append((notes, num_steps))
    return parts


def _time_change_ticks(song: Song) -> list[int]:
    """Ticks (> 0) where the tempo or the meter really changes."""
    tempos = [t.tick for t, before in zip(song.tempos[1:], song.tempos, strict=False)
              if t.us_per_beat != before.us_per_beat]  # fmt: skip
    meters = [sig.tick for sig in meter_changes(song.time_signatures)[1:]]
    return sorted({tick for tick in (*tempos, *meters) if tick > 0})


def _reject_reason(notes: Notes, num_steps: int, cfg: DatasetConfig) -> tuple[str, str] | None:
    if not len(notes):
        return ("no_notes", "part has no pitched notes")
    if cfg.single_program and np.unique(notes[:, 3]).size > 1:
        return ("more_than_1_program", f"{np.unique(notes[:, 3]).size} MIDI programs")
    if num_steps < cfg.min_steps:
        return ("too_short", f"{num_steps} steps < min_steps {cfg.min_steps}")
    if num_steps > cfg.max_steps and cfg.long_pieces == "discard":
        return ("too_long", f"{num_steps} steps > max_steps {cfg.max_steps}")
    return None


def _windows(num_steps: int, max_steps: int) -> list[tuple[int, int]]:
    """Equal windows of at most `max_steps` (whole beats where possible) covering the part."""
    count = math.ceil(num_steps / max_steps)
    size = math.ceil(num_steps / count)
    beat = polyphony.STEPS_PER_QUARTER
    size = min(max_steps, math.ceil(size / beat) * beat)
    return [(s, min(s + size, num_steps)) for s in range(0, num_steps, size)]


def _encode_window(notes: Notes, start: int, stop: int) -> npt.NDArray[np.uint16]:
    """Encode the notes sounding in [start, stop); one held into the window starts anew."""
    inside = notes[(notes[:, 0] < stop) & (notes[:, 1] > start)]
    starts = np.maximum(inside[:, 0], start) - start
    ends = np.minimum(inside[:, 1], stop) - start
    return polyphony.encode_notes(starts, ends, inside[:, 2], stop - start)
