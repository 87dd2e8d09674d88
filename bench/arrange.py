"""Arranging speed on real game music, against reading the same files in the same run.

    python bench/arrange.py [--data ../shared/data/midi] [--repeat 3]

Arranges every Simutrans and Freedoom file (147 files, about 0.5 M notes) for `nes` and `vrc6`
and writes the arranged MIDI (`to_song`), in one process. The reference is `read_midi` of the
same files; each figure is the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from chipline.arrange import ArrangeConfig, arrange, to_song
from chipline.chip import ChipScore
from chipline.score import Song, read_midi


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _arrange_all(songs: list[Song], config: ArrangeConfig) -> list[ChipScore]:
    return [arrange(s, config) for s in songs]


def _to_songs(scores: list[ChipScore]) -> list[Song]:
    return [to_song(s) for s in scores]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "midi"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    paths = sorted(args.data.glob("simutrans/*.mid")) + sorted(args.data.glob("freedoom/*.mid"))
    if not paths:
        raise SystemExit(f"no MIDI files under {args.data}/simutrans or /freedoom; pass --data")
    songs: list[Song] = [read_midi(p) for p in paths]
    num_notes = sum(len(s.notes) for s in songs)
    music_sec = sum(s.duration_sec for s in songs)
    read_sec = _best(lambda: [read_midi(p) for p in paths], args.repeat)
    print(f"{len(paths)} files, {num_notes} notes, {music_sec / 60:.0f} min of music")
    print(f"read_midi (reference): {read_sec:.2f} s")
    for chip in ("nes", "vrc6"):
        config = ArrangeConfig(chip=chip)
        arrange_sec = _best(partial(_arrange_all, songs, config), args.repeat)
        scores = _arrange_all(songs, config)
        midi_sec = _best(partial(_to_songs, scores), args.repeat)
        print(
            f"{chip}: arrange {arrange_sec:.2f} s ({arrange_sec / read_sec:.2f}x reading, "
            f"{num_notes / arrange_sec:,.0f} notes/s, {music_sec / arrange_sec:,.0f}x realtime); "
            f"to_song {midi_sec:.2f} s ({midi_sec / read_sec:.2f}x reading)"
        )


if __name__ == "__main__":
    main()
