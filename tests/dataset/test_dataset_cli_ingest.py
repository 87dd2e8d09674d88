"""`chipline ingest`: Magenta's flag spellings, totals, and clear errors."""

from __future__ import annotations

import json

import pytest
from test_dataset_build import chord_song

from chipline.cli import cli
from chipline.dataset import DatasetConfig, build_dataset, load_dataset
from chipline.score import write_midi
from conftest import shared_data


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(3):
        write_midi(chord_song(96 + 32 * i, pitches=(60 + i, 64, 67)), folder / f"p{i}.mid")
    return folder


def test_ingest_accepts_magentas_spelling(runner, corpus, tmp_path):
    out = tmp_path / "ds"
    args = ["ingest", f"--input={corpus}", f"--output_dir={out}", "--eval_ratio=0.10"]
    result = runner.invoke(cli, [*args, "--recursive"])
    assert result.exit_code == 0, result.output
    assert "27 train + 0 eval sequences" in result.output
    assert len(load_dataset(out).train) == 27


def test_ingest_positional_with_toml_and_flags(runner, corpus, tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[dataset]\nmin_steps = 100\nnum_workers = 1\n")
    out = tmp_path / "ds"
    result = runner.invoke(
        cli,
        ["ingest", str(corpus), "--out", str(out), "--config", str(toml), "--transpose", "0..0"],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["config"]["min_steps"] == 100
    assert meta["config"]["transpose_max"] == 0
    assert meta["counts"]["rejected"] == {"too_short": 1}
    assert "rejected 1 (1 too_short)" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ingest", "--out", "x"], 2, "missing the MIDI folder"),
        (["ingest", "a", "--input_dir", "b", "--out", "x"], 2, "two input folders"),
        (["ingest", "--input=notes.tfrecord", "--output_dir=x"], 2, "chipline reads MIDI"),
        (["ingest", "nowhere"], 2, "--out DATASET"),
        (["ingest", "nowhere", "--out", "x"], 1, "no such folder"),
        (["ingest", ".", "--out", "x", "--transpose", "4"], 2, "LOW..HIGH"),
    ],
)
def test_ingest_bad_input(runner, args, code, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output


@pytest.mark.slow
def test_bach_with_magentas_settings_gives_magentas_examples(tmp_path):
    """Magenta's create_dataset made 3,312 train and 333 eval examples on this split."""
    ttl = json.loads(shared_data("magenta-ttl.json").read_text())["data"]
    cfg = DatasetConfig(
        long_pieces="discard",
        single_program=True,
        split_file=str(shared_data("bach-split.json")),
        num_workers=2,
    )
    counts = build_dataset(shared_data("midi", "bach-magenta"), tmp_path / "ds", cfg)
    assert counts["train_sequences"] == ttl["train"]["examples"]
    assert counts["eval_sequences"] == ttl["eval"]["examples"]
    assert counts["eval_tokens"] == ttl["eval"]["events_total"]
    # Train events: 9 fewer of 4.2 million (one 16th step of one piece in its 9 keys, read
    # differently by note-seq's MIDI reader).
    assert abs(counts["train_tokens"] - ttl["train"]["events_total"]) <= 9
