"""The mix recipe tool: each part holds its share of the training tokens and of the key
prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chipline.dataset import load_dataset
from chipline.dataset.store import dataset_meta, write_json, write_splits
from chipline.encoding import chipvoice as cv
from helpers_tools import load_tool

mix_datasets = load_tool("mix_datasets")


def part(folder: Path, token: int, num_sequences: int, key_index: int | None = None) -> Path:
    """A dataset of `num_sequences` training sequences of ten `token`s and one held out; with
    `key_index`, its training windows are all in that header key."""
    train = [np.full(10, token, np.uint16)] * num_sequences
    seqs = {"train": train, "eval": [np.full(10, token, np.uint16)]}
    write_splits(folder, seqs, {"train": [0] * num_sequences, "eval": [1]}, [], "empty")
    meta = dataset_meta(cv.CODEC_NAME, {}, ["a.mid", "b.mid"], [False, True], {})
    if key_index is not None:
        meta["key_prior"] = np.eye(24)[key_index].tolist()
    write_json(folder / "meta.json", meta)
    return folder


def test_parts_hold_their_shares_however_many_sequences_they_have(tmp_path):
    many, few = part(tmp_path / "many", 5, 400), part(tmp_path / "few", 6, 4)
    meta = mix_datasets.mix([("many", many, 1.0), ("few", few, 3.0)], 200, 0, tmp_path / "mix", 0)
    data = load_dataset(tmp_path / "mix")
    assert np.mean(data.train.tokens == 6) == pytest.approx(0.75)  # the few are drawn again
    assert meta["mix"]["parts"]["few"]["distinct_train_sequences"] == 4
    assert meta["mix"]["parts"]["many"]["distinct_train_sequences"] == 5
    assert data.files == ["many/a.mid", "many/b.mid", "few/a.mid", "few/b.mid"]
    assert len(data.eval) == 2  # every part's held-out sequences, unweighted


def test_the_key_prior_mixes_in_the_parts_shares(tmp_path):
    g, e = part(tmp_path / "g", 5, 40, key_index=7), part(tmp_path / "e", 6, 40, key_index=16)
    meta = mix_datasets.mix([("g", g, 3.0), ("e", e, 1.0)], 200, 0, tmp_path / "mix", 0)
    prior = meta["key_prior"]
    assert prior[7] == pytest.approx(0.75)
    assert prior[16] == pytest.approx(0.25)
    assert sum(prior) == pytest.approx(1)
    assert load_dataset(tmp_path / "mix").meta["key_prior"] == prior


def test_a_part_without_a_key_prior_leaves_the_mix_without_one(tmp_path):
    g, p = part(tmp_path / "g", 5, 40, key_index=7), part(tmp_path / "p", 6, 40)
    meta = mix_datasets.mix([("g", g, 1.0), ("p", p, 1.0)], 200, 0, tmp_path / "mix", 0)
    assert "key_prior" not in meta
