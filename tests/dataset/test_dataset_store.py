"""Loading a dataset folder: the arrays, and a clear error for anything wrong with it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chipline.dataset import store
from chipline.errors import DatasetError


def _write(tmp_path, seqs=([0, 2, 1], [0, 63, 2, 1])):
    out = tmp_path / "ds"
    packed = store.pack([np.array(s, np.uint16) for s in seqs], [0] * len(seqs))
    store.write_split(out / store.SPLIT_FILES["train"], packed)
    store.write_split(out / store.SPLIT_FILES["eval"], store.pack([], []))
    meta = {
        "format": store.FORMAT,
        "format_version": 1,
        "codec": "polyphony",
        "codec_version": 1,
        "vocab_size": 259,
        "files": ["a.mid"],
    }
    store.write_json(out / store.META_FILE, meta)
    return out


def test_sequences_round_trip(tmp_path):
    ds = store.load_dataset(_write(tmp_path))
    assert len(ds.train) == 2
    assert len(ds.eval) == 0
    assert ds.train[1].tolist() == [0, 63, 2, 1]
    assert ds.train[-1].tolist() == [0, 63, 2, 1]
    assert ds.train.lengths.tolist() == [3, 4]
    with pytest.raises(IndexError):
        ds.train[2]


@pytest.mark.parametrize(
    ("key", "value"),
    [("codec_version", 2), ("codec", "remi"), ("format_version", 9), ("vocab_size", 300)],
)
def test_refuses_another_version(tmp_path, key, value):
    out = _write(tmp_path)
    meta = json.loads((out / "meta.json").read_text())
    meta[key] = value
    (out / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=f"{key}.*chipline ingest"):
        store.load_dataset(out)


def test_refuses_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder"):
        store.load_dataset(tmp_path / "nowhere")
    out = _write(tmp_path)
    train = out / store.SPLIT_FILES["train"]
    train.write_bytes(train.read_bytes()[:100])
    with pytest.raises(DatasetError, match="corrupt.*chipline ingest"):
        store.load_dataset(out)
    (out / "meta.json").write_text("{not json")
    with pytest.raises(DatasetError, match="unreadable"):
        store.load_dataset(out)
    (out / "meta.json").unlink()
    with pytest.raises(DatasetError, match="not a dataset"):
        store.load_dataset(out)


def test_refuses_tokens_outside_the_vocabulary(tmp_path):
    out = _write(tmp_path, seqs=([0, 400, 1],))
    with pytest.raises(DatasetError, match="outside the vocabulary"):
        store.load_dataset(out)
