"""The corpus recipe's own logic: MIDI lumps out of a WAD, and a part folder emptied per run."""

from __future__ import annotations

import struct

import pytest

from helpers_tools import load_tool

build_corpus = load_tool("build_corpus")


def _wad(lumps: list[tuple[bytes, bytes]], magic: bytes = b"PWAD") -> bytes:
    body, table, pos = b"", b"", 12
    for name, data in lumps:
        table += struct.pack("<ii8s", pos, len(data), name)
        body += data
        pos += len(data)
    return struct.pack("<4sii", magic, len(lumps), pos) + body + table


def test_wad_lumps_that_are_midi_files_come_out_by_name():
    midi = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"
    wad = _wad([(b"D_E1M1", midi), (b"PLAYPAL", b"\x00" * 30), (b"D_RUNNIN", midi[:-1])])
    lumps = build_corpus.wad_midi_lumps(wad)
    assert lumps == [("D_E1M1", midi), ("D_RUNNIN", midi[:-1])]


def test_a_file_that_is_not_a_wad_is_refused():
    with pytest.raises(ValueError, match="not a WAD"):
        build_corpus.wad_midi_lumps(b"RIFF" + b"\x00" * 20)


def test_a_part_folder_starts_empty(tmp_path):
    part = tmp_path / "folk"
    part.mkdir()
    (part / "stale.mid").write_bytes(b"left by an interrupted run")
    assert build_corpus._fresh(part) == part
    assert list(part.iterdir()) == []
