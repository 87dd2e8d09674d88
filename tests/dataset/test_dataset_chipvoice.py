"""`chipline ingest --codec chipvoice`: arranged windows, meter cuts, rotations, transpositions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_dataset_build import TPB, chord_song, make_corpus

from chipline.arrange import arrange
from chipline.chip import VOICES, ChipNote
from chipline.cli import cli
from chipline.dataset import load_dataset
from chipline.dataset.chipvoice import (
    ChipVoiceDatasetConfig,
    _reject_reason,
    build_chipvoice_dataset,
    rotate,
    transpose,
    windows,
)
from chipline.encoding import chipvoice as cv
from chipline.encoding.chipvoice_grammar import check
from chipline.errors import ConfigError
from chipline.keys import Key
from chipline.score import Note, Song, TimeSignature, write_midi


def test_windows_cut_at_meter_changes_into_whole_bars():
    metre = (TimeSignature(0, 4, 4), TimeSignature(10 * 4 * TPB, 3, 4))
    score = arrange(chord_song(10 * 16 + 7 * 12, time_signatures=metre))
    cut = list(windows(score, max_bars=4))
    meters = [(w.time_signatures[0].numerator, w.end_tick // TPB) for w in cut]
    assert meters == [(4, 16), (4, 16), (4, 8), (3, 12), (3, 9)]
    for w in cut:
        assert all(0 <= n.start_tick < w.end_tick and n.end_tick <= w.end_tick for n in w.notes)
    assert sum(len(w.notes) for w in cut) == len(score.notes)


def test_a_repeated_time_signature_is_no_cut_and_cut_time_is_kept():
    again = (TimeSignature(0, 2, 2), TimeSignature(4 * 4 * TPB, 2, 2))  # as at a repeat sign
    score = arrange(chord_song(8 * 16, time_signatures=again))
    (window,) = windows(score, max_bars=16)
    assert window.end_tick == 8 * 4 * TPB
    assert not _reject_reason(window, ChipVoiceDatasetConfig())
    header = cv.read_header(cv.encode(window).astype(np.int64))
    assert (header.meter, header.num_bars) == ((4, 4), 8)


def test_rotation_by_whole_bars_is_cyclic():
    score = next(windows(arrange(chord_song(64)), max_bars=4))
    bar = 4 * TPB
    once = rotate(score, 1)
    assert {(n.voice, n.start_tick, n.pitches) for n in once.notes} == {
        (n.voice, (n.start_tick + bar) % score.end_tick, n.pitches) for n in score.notes
    }
    back = rotate(once, 3)
    assert sorted((n.voice, n.start_tick, n.end_tick) for n in back.notes) == sorted(
        (n.voice, n.start_tick, n.end_tick) for n in score.notes
    )


def test_transposition_leaves_the_noise_alone():
    notes = (ChipNote("Pulse 1", 0, 4, (60,)), ChipNote("Noise", 0, 2, (5,)))
    score = next(windows(arrange(chord_song(16)), max_bars=1))
    moved = transpose(score.__class__(**{**score.__dict__, "notes": notes}), 3)
    assert [n.pitches for n in moved.notes] == [(63,), (5,)]


def test_ingest_chipvoice_writes_a_loadable_dataset(runner, tmp_path):
    corpus = make_corpus(tmp_path / "midi")
    drums = Song(TPB, notes=tuple(Note(i * TPB, i * TPB + 60, 36 + i % 3, channel=9)
                                  for i in range(32)) + chord_song(128).notes)  # fmt: skip
    write_midi(drums, corpus / "drums.mid")
    out = tmp_path / "ds"
    args = ["ingest", str(corpus), "--out", str(out), "--codec", "chipvoice", "--workers", "1"]
    result = runner.invoke(cli, [*args, "--eval-ratio", "0", "--max-bars", "8"])
    assert result.exit_code == 0, result.output
    data = load_dataset(out)
    assert (data.meta["codec"], data.meta["vocab_size"]) == ("chipvoice", cv.VOCAB_SIZE)
    counts = data.meta["counts"]
    assert counts["train_sequences"] == counts["windows"] * 9 * 2  # 9 keys, 1 rotation each
    noise = 0
    for i in range(len(data.train)):
        tokens = data.train[i]
        check(tokens)
        header = cv.read_header(tokens.astype(np.int64))
        assert header.loop
        assert header.num_bars <= 8
        score = cv.decode(tokens)
        noise += sum(n.voice == "Noise" for n in score.notes)
        assert all(VOICES[n.voice].low <= n.pitches[0] <= VOICES[n.voice].high for n in score.notes)
    assert noise > 0  # drums arrive on the noise channel
    lines = (out / "report.jsonl").read_text().splitlines()
    reasons = {json.loads(line)["reason"] for line in lines}
    assert "unreadable" in reasons


def tune(pitches: tuple[int, ...], num_beats: int = 64) -> Song:
    """A melody of `pitches` over and over, a beat each, with the first pitch held under it."""
    notes = [Note(b * TPB, (b + 1) * TPB, pitches[b % len(pitches)]) for b in range(num_beats)]
    notes += [Note(b * TPB, (b + 4) * TPB, pitches[0] - 12) for b in range(0, num_beats, 4)]
    return Song(TPB, notes=tuple(sorted(notes)))


G_MAJOR = (67, 71, 74, 71, 66, 69, 72, 74)  # G B D B, F# A C D: tonic and dominant seventh
E_MINOR = (64, 67, 71, 67, 63, 66, 71, 69)  # E G B G, D# F# B A


def test_the_key_prior_is_of_the_training_windows_before_transposition(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for name, melody in (("g1", G_MAJOR), ("g2", G_MAJOR), ("g3", G_MAJOR), ("e", E_MINOR)):
        write_midi(tune(melody), folder / f"{name}.mid")
    split = {"train": ["g1.mid", "g2.mid", "g3.mid"], "eval": ["e.mid"]}
    (tmp_path / "split.json").write_text(json.dumps(split))
    cfg = ChipVoiceDatasetConfig(split_file=str(tmp_path / "split.json"), num_workers=1,
                                 transpose_min=-3, transpose_max=3, max_bars=4)  # fmt: skip
    build_chipvoice_dataset(folder, tmp_path / "ds", cfg)
    data = load_dataset(tmp_path / "ds")
    keys = {cv.read_header(data.train[i].astype(np.int64)).key for i in range(len(data.train))}
    assert len(keys) == 7  # the sequences are in seven keys: transposed -3..3
    prior = np.array(data.meta["key_prior"])
    assert prior.shape == (24,)
    assert prior[Key(7).index] == pytest.approx(1)  # the windows themselves are all in G major
    eval_keys = {cv.read_header(data.eval[i].astype(np.int64)).key for i in range(len(data.eval))}
    assert Key(4, minor=True) in eval_keys  # the held-out tune is not counted


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError):
        ChipVoiceDatasetConfig(max_bars=100)
    with pytest.raises(ConfigError):
        ChipVoiceDatasetConfig(chips=("sid",))  # type: ignore[arg-type]
