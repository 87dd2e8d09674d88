"""MIDI folder → dataset: Magenta's pipeline steps, windows, split, report, parallel = serial."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chipline.dataset import DatasetConfig, build_dataset, load_dataset
from chipline.dataset.build import eval_flags
from chipline.dataset.pieces import split_parts
from chipline.encoding import polyphony as poly
from chipline.encoding.polyphony_grammar import grammar_error
from chipline.errors import ConfigError, DatasetError
from chipline.score import Note, Song, Tempo, TimeSignature, write_midi

TPB = 480  # ticks per beat of the test files; one 16th step is 120 ticks


def chord_song(num_steps: int, pitches=(60, 64, 67), **kw) -> Song:
    """A chord per beat, `num_steps` 16th steps long."""
    notes = [
        Note(beat * TPB, (beat + 1) * TPB, p + beat % 3)
        for beat in range(num_steps // 4)
        for p in pitches
    ]
    return Song(ticks_per_beat=TPB, notes=tuple(sorted(notes)), end_tick=num_steps * 120, **kw)


def make_corpus(folder: Path) -> Path:
    folder.mkdir()
    write_midi(chord_song(128), folder / "plain.mid")
    write_midi(chord_song(40), folder / "short.mid")
    write_midi(chord_song(1100), folder / "long.mid")
    metre = (TimeSignature(0, 4, 4), TimeSignature(96 * 120, 3, 4))
    write_midi(chord_song(192, time_signatures=metre), folder / "metre.mid")
    tempos = (Tempo(0, 500_000), Tempo(100 * 120, 400_000))
    write_midi(chord_song(200, tempos=tempos), folder / "tempo.mid")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    return folder


def test_split_parts_cuts_at_real_time_changes_only():
    same = (TimeSignature(0, 4, 4), TimeSignature(64 * 120, 4, 4))
    assert len(split_parts(chord_song(128, time_signatures=same))) == 1
    metre = (TimeSignature(0, 4, 4), TimeSignature(64 * 120, 3, 4))
    parts = split_parts(chord_song(128, time_signatures=metre))
    assert [steps for _, steps in parts] == [64, 64]
    assert parts[1][0][:, 0].min() == 0  # each part starts at its own step 0


def test_build_counts_windows_rejects_and_transpositions(tmp_path):
    corpus = make_corpus(tmp_path / "midi")
    cfg = DatasetConfig(eval_ratio=0.0, num_workers=1)
    counts = build_dataset(corpus, tmp_path / "ds", cfg)
    # plain 1 + long 3 windows (1100 > 512) + metre 2 + tempo 2 = 8 pieces, 9 keys each
    assert counts["windows"] == 8
    assert counts["train_sequences"] == 8 * 9
    assert counts["eval_sequences"] == 0
    report = [json.loads(x) for x in (tmp_path / "ds" / "report.jsonl").read_text().splitlines()]
    assert {(r["file"], r["reason"]) for r in report} == {
        ("broken.mid", "unreadable"),
        ("short.mid", "too_short"),
    }
    ds = load_dataset(tmp_path / "ds")
    assert ds.train.lengths.sum() == ds.train.num_tokens == counts["train_tokens"]
    for i in range(len(ds.train)):
        seq = ds.train[i]
        assert seq[0] == poly.START
        assert seq[-1] == poly.END
        assert (seq == poly.STEP_END).sum() <= 512
    for i in range(4, len(ds.train), 9):  # each piece in its own key (-4..+4: the fifth)
        assert grammar_error(ds.train[i]) is None
        assert poly.pitch_range(ds.train[i])[0] in (60, 61, 62)
    files = ds.files
    assert sorted({files[p] for p in ds.train.piece}) == [
        "long.mid",
        "metre.mid",
        "plain.mid",
        "tempo.mid",
    ]


def test_magenta_settings_discard_long_pieces(tmp_path):
    corpus = make_corpus(tmp_path / "midi")
    cfg = DatasetConfig(eval_ratio=0.0, long_pieces="discard", transpose_max=0, num_workers=1)
    counts = build_dataset(corpus, tmp_path / "ds", cfg)
    assert counts["rejected"]["too_long"] == 1
    assert counts["train_sequences"] == 5 * 5  # plain, metre x2, tempo x2 over -4..0


def test_parallel_build_equals_serial(tmp_path):
    corpus = make_corpus(tmp_path / "midi")
    for workers in (1, 2):
        build_dataset(corpus, tmp_path / f"ds{workers}", DatasetConfig(num_workers=workers))
    one, two = load_dataset(tmp_path / "ds1"), load_dataset(tmp_path / "ds2")
    for a, b in ((one.train, two.train), (one.eval, two.eval)):
        np.testing.assert_array_equal(a.tokens, b.tokens)
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_array_equal(a.piece, b.piece)


def test_eval_split_is_by_file_and_deterministic():
    names = [f"dir/piece{i}.mid" for i in range(2000)]
    flags = eval_flags(names, DatasetConfig(eval_ratio=0.1))
    assert flags == eval_flags(names, DatasetConfig(eval_ratio=0.1))
    assert 0.08 < sum(map(bool, flags)) / len(flags) < 0.12
    assert flags[:100] == eval_flags(names[:100], DatasetConfig(eval_ratio=0.1))
    assert flags != eval_flags(names, DatasetConfig(eval_ratio=0.1, split_seed=1))


def test_split_file_fixes_the_split_and_reports_unlisted_files(tmp_path):
    corpus = make_corpus(tmp_path / "midi")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["plain.mid", "long.mid"], "eval": ["tempo.mid"]}))
    cfg = DatasetConfig(split_file=str(split), transpose_eval=False, num_workers=1)
    counts = build_dataset(corpus, tmp_path / "ds", cfg)
    assert counts["eval_sequences"] == 2  # tempo.mid: 2 parts, not transposed
    assert counts["train_sequences"] == 4 * 9
    report = (tmp_path / "ds" / "report.jsonl").read_text()
    assert report.count("not_in_split_file") == 3


def test_empty_folder_and_unusable_folder_say_what_to_do(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no MIDI files"):
        build_dataset(tmp_path / "empty", tmp_path / "ds", DatasetConfig())
    write_midi(chord_song(128), tmp_path / "empty" / "sub" / "a.mid")
    with pytest.raises(DatasetError, match="add --recursive"):
        build_dataset(tmp_path / "empty", tmp_path / "ds", DatasetConfig())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.mid").write_bytes(b"not midi")
    write_midi(chord_song(12), bad / "tiny.mid")
    with pytest.raises(DatasetError, match="report.jsonl"):
        build_dataset(bad, tmp_path / "ds2", DatasetConfig(num_workers=1))
    assert (tmp_path / "ds2" / "report.jsonl").read_text().count("\n") == 2


def test_config_rejects_nonsense():
    with pytest.raises(ConfigError, match="min_steps"):
        DatasetConfig(min_steps=600)
    with pytest.raises(ConfigError, match="eval_ratio"):
        DatasetConfig(eval_ratio=1.5)
