"""Dataset build benchmark: the 410 Bach files Magenta was measured on, transposed -4..+4.

Magenta 2.1.4 (convert_dir_to_note_sequences + polyphony_rnn_create_dataset) took about 310 s
and wrote 4.86 GB of one-hot SequenceExamples for these files on this machine; those are fixed
reference figures. This runs `chipline ingest`'s library call with 1 and 2 worker processes in
the same run, and once more with Magenta's own settings (long parts dropped, one program only,
the fixed split) to show that it makes the same examples.

    python bench/ingest_dataset.py [--data ../shared/data] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from chipline.dataset import DatasetConfig, build_dataset

MAGENTA_SEC = 310.0
MAGENTA_BYTES = 4.86e9
ROOT = Path(__file__).resolve().parents[1]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def timed_build(midi: Path, cfg: DatasetConfig, repeat: int) -> tuple[float, int, dict]:
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            counts = build_dataset(midi, Path(tmp) / "ds", cfg)
            best = min(best, time.perf_counter() - start)
            size = folder_bytes(Path(tmp) / "ds")
    return best, size, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("CHIPLINE_SHARED_DATA", ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the corpus's repaired-note warnings
    midi = args.data / "midi" / "bach-magenta"
    results = {}
    for workers in (1, 2):
        sec, size, counts = timed_build(midi, DatasetConfig(num_workers=workers), args.repeat)
        results[workers] = sec
        print(
            f"chipline ingest, {workers} worker(s): {sec:.2f} s, {size / 1e6:.1f} MB, "
            f"{counts['train_sequences'] + counts['eval_sequences']:,} sequences, "
            f"{counts['train_tokens'] + counts['eval_tokens']:,} tokens"
        )
    magenta_like = DatasetConfig(
        long_pieces="discard",
        single_program=True,
        split_file=str(args.data / "bach-split.json"),
        num_workers=2,
    )
    sec_m, size_m, counts_m = timed_build(midi, magenta_like, args.repeat)
    print(
        f"chipline ingest with Magenta's settings, 2 workers: {sec_m:.2f} s, {size_m / 1e6:.1f} MB,"
        f" {counts_m['train_sequences']:,} train + {counts_m['eval_sequences']:,} eval examples"
    )
    best = min(results.values())
    print(f"2 workers vs 1: {results[1] / results[2]:.2f}x")
    print(
        f"vs Magenta ({MAGENTA_SEC:.0f} s, {MAGENTA_BYTES / 1e9:.2f} GB): "
        f"{MAGENTA_SEC / best:.0f}x faster, {MAGENTA_BYTES / size:.0f}x smaller "
        f"(Magenta's settings: {MAGENTA_SEC / sec_m:.0f}x faster, "
        f"{MAGENTA_BYTES / size_m:.0f}x smaller)"
    )
    print(json.dumps({"workers_1_s": results[1], "workers_2_s": results[2], "bytes": size}))


if __name__ == "__main__":
    main()
