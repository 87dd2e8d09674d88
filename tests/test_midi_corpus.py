"""Real and deliberately broken MIDI files: each loads, or fails with MidiFileError only."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from chipline.errors import MidiFileError
from chipline.score import read_midi
from conftest import SHARED_DATA, shared_data

EDGE_CASES = SHARED_DATA / "midi-edge-cases" / "midi"
EDGE_FILES = sorted(EDGE_CASES.glob("*")) if EDGE_CASES.is_dir() else []

# The broken files of the edge-case suite, and why refusing them is right.
EXPECTED_REFUSALS = {
    "test-corrupt-file-missing-byte.mid": "truncated",  # its track chunk ends mid-event
    "test-empty-file.mid": "empty file",  # 0 bytes
    "test-not-a-midi-file.mid": "not a MIDI file",  # text
    "test-syx-7e-06-01-id-request.syx": "not a MIDI file",  # a raw SysEx dump
}


@pytest.mark.parametrize("path", EDGE_FILES, ids=lambda p: p.name)
def test_edge_case_loads_or_fails_with_midi_file_error(path):
    shared_data("midi-edge-cases")
    if path.name in EXPECTED_REFUSALS:
        reason = re.escape(f"{path}: ") + ".*" + EXPECTED_REFUSALS[path.name]
        with pytest.raises(MidiFileError, match=reason):
            read_midi(path)
        return
    song = read_midi(path)  # any exception here fails the test
    assert all(n.end_tick > n.start_tick for n in song.notes)


def test_players_hear_the_c_major_scale_in_the_recoverable_files():
    # These files state "You must hear a C-Major scale": careful readers recover the music.
    shared_data("midi-edge-cases")
    names = [
        "test-illegal-message-all.mid",
        "test-non-midi-track.mid",
        "test-running-status-sysex.mid",
        "test-running-status-metaevent.mid",
        "test-corrupt-file-extra-byte.mid",
    ]
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    for name in names:
        pitches = [n.pitch for n in read_midi(EDGE_CASES / name).notes]
        assert pitches[:8] == scale, name


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["bach", "bach-magenta", "folk", "freedoom", "simutrans"])
def test_every_real_corpus_file_loads(folder):
    root = shared_data("midi", folder)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    assert files
    counts: Counter[str] = Counter()
    for path in files:
        song = read_midi(path)
        counts["files"] += 1
        counts["notes"] += len(song.notes)
        counts["drum notes"] += sum(n.is_drum for n in song.notes)
        assert song.notes, f"{path}: no notes"
    print(f"{folder}: {dict(counts)}", file=os.sys.stderr)  # noqa: T201 - shown with -s
