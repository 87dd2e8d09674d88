"""Training batches: every event once per epoch, little padding, deterministic plans."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_model import write_dataset

from chipline.errors import DatasetError
from chipline.model.batches import IGNORE_INDEX, collate, epoch_plan, eval_plan, load_splits


@pytest.fixture
def train_split(tmp_path):
    return load_splits(write_dataset(tmp_path / "ds", num_train=40))[0]


@pytest.mark.parametrize("window", [0, 7, 32])
def test_every_prediction_appears_once_per_epoch(train_split, window):
    seen = []
    for rows in epoch_plan(train_split.lengths, 5, window, seed=3, epoch=1):
        inputs, targets = collate(train_split, rows)
        for r, (seq, start, _) in enumerate(rows.tolist()):
            n = int((targets[r] != IGNORE_INDEX).sum())
            seen.extend((seq, start + i) for i in range(n))
            base = train_split.offsets[seq] + start
            np.testing.assert_array_equal(inputs[r, :n], train_split.tokens[base : base + n])
    want = [(s, i) for s, n in enumerate(train_split.lengths.tolist()) for i in range(n - 1)]
    assert sorted(seen) == want


def test_windows_need_little_padding_and_plans_are_seeded(train_split):
    plan = epoch_plan(train_split.lengths, 8, 16, seed=0, epoch=0)
    real = sum(int((collate(train_split, r)[1] != IGNORE_INDEX).sum()) for r in plan)
    padded = sum(collate(train_split, r)[1].size for r in plan)
    assert real / padded > 0.8
    again = epoch_plan(train_split.lengths, 8, 16, seed=0, epoch=0)
    assert all(np.array_equal(a, b) for a, b in zip(plan, again, strict=True))
    other = epoch_plan(train_split.lengths, 8, 16, seed=0, epoch=1)
    assert not all(np.array_equal(a, b) for a, b in zip(plan, other, strict=False))


def test_eval_plan_keeps_whole_pieces(train_split):
    batches = eval_plan(train_split.lengths, max_events=200)
    rows = np.concatenate(batches)
    assert sorted(rows[:, 0].tolist()) == list(range(len(train_split.lengths)))
    assert np.array_equal(rows[:, 2], train_split.lengths[rows[:, 0]])


def test_corrupt_datasets_raise(tmp_path):
    path = write_dataset(tmp_path / "ds")
    data = (path / "eval_poly_tracks.npz").read_bytes()
    (path / "eval_poly_tracks.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="eval_poly_tracks"):
        load_splits(path)
    (path / "meta.json").unlink()
    with pytest.raises(DatasetError, match="ingest"):
        load_splits(path)
