"""score.py: reading real-world MIDI tolerantly, refusing garbage, writing, quantising."""

from __future__ import annotations

import logging
import struct

import mido
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipline.errors import MidiFileError
from chipline.score import (
    Note,
    ReadLimits,
    Song,
    Tempo,
    TimeSignature,
    describe,
    max_polyphony,
    meter_changes,
    parse_midi,
    quantize,
    read_midi,
    write_midi,
)


def smf(*tracks: bytes, fmt: int = 1, tpb: int = 96) -> bytes:
    """A standard MIDI file from raw track bodies (each: delta-time + event bytes)."""
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), tpb)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


EOT = b"\x00\xff\x2f\x00"


def test_running_status_and_velocity_zero_note_off():
    # note on C4, then (running status) note on E4, then both ended by velocity-0 note-ons.
    body = b"\x00\x90\x3c\x64" + b"\x00\x40\x50" + b"\x60\x3c\x00" + b"\x00\x40\x00" + EOT
    song = parse_midi(smf(body))
    assert [(n.pitch, n.start_tick, n.end_tick, n.velocity) for n in song.notes] == [
        (60, 0, 96, 100),
        (64, 0, 96, 80),
    ]


def test_type0_channels_programs_and_drums():
    body = (
        b"\x00\xc0\x50"  # program 80 on channel 1
        + b"\x00\x90\x40\x64\x00\x99\x24\x7f"  # pitch 64 ch0, kick on channel 10
        + b"\x30\x80\x40\x00\x00\x89\x24\x00"
        + EOT
    )
    song = parse_midi(smf(body, fmt=0))
    assert song.midi_format == 0
    melodic, drum = sorted(song.notes, key=lambda n: n.channel)
    assert (melodic.program, melodic.is_drum) == (80, False)
    assert (drum.pitch, drum.is_drum) == (36, True)
    assert describe(song)["drum_notes"] == 1


def test_note_off_ends_the_oldest_sounding_note_and_a_new_attack_shortens_it():
    # on 0, on 48, off 96, off 144: first in, first out gives 0-96 and 48-144; the second
    # attack ends the first note.
    body = b"\x00\x90\x3c\x64" + b"\x30\x90\x3c\x64" + b"\x30\x80\x3c\x00" + b"\x30\x80\x3c\x00"
    song = parse_midi(smf(body + EOT))
    assert [(n.start_tick, n.end_tick) for n in song.notes] == [(0, 48), (48, 144)]


def test_repeated_note_written_attack_before_release_keeps_both_notes():
    # on 0; at 96 the next attack comes before the previous release; off at 192.
    body = b"\x00\x90\x3c\x64" + b"\x60\x90\x3c\x50" + b"\x00\x80\x3c\x00" + b"\x60\x80\x3c\x00"
    song = parse_midi(smf(body + EOT))
    assert [(n.start_tick, n.end_tick, n.velocity) for n in song.notes] == [
        (0, 96, 100),
        (96, 192, 80),
    ]


def test_zero_length_note_written_off_before_on_is_dropped():
    # a grace note exported as "off 71, on 71" at one tick, then the real note 67.
    body = b"\x00\x80\x47\x00\x00\x90\x47\x5a" + b"\x00\x90\x43\x5a\x60\x80\x43\x00"
    body += b"\x60\x90\x47\x5a\x60\x80\x47\x00"  # a later, real 71
    song = parse_midi(smf(body + EOT))
    assert [(n.pitch, n.start_tick, n.end_tick) for n in song.notes] == [
        (67, 0, 96),
        (71, 192, 288),
    ]


def test_unclosed_notes_end_with_their_track_and_zero_length_notes_are_dropped():
    body = b"\x00\x90\x3c\x64" + b"\x00\x90\x40\x64\x00\x80\x40\x00" + b"\x60\xff\x2f\x00"
    song = parse_midi(smf(body))
    assert [(n.pitch, n.start_tick, n.end_tick) for n in song.notes] == [(60, 0, 96)]
    assert song.end_tick == 96


def test_repairs_are_logged_once_per_file(tmp_path, caplog):
    path = tmp_path / "messy.mid"
    path.write_bytes(smf(b"\x00\x90\x3c\x64\x00\x90\x40\x64\x00\x80\x40\x00\x60\xff\x2f\x00"))
    with caplog.at_level(logging.WARNING):
        read_midi(path)
    [record] = caplog.records
    assert str(path) in record.message
    assert "1 zero-length notes dropped" in record.message
    assert "1 notes never closed" in record.message


def test_malformed_key_signature_is_skipped_and_the_music_kept(caplog):
    # key signature with 1 flat and mode 255, as in real Simutrans files; plain mido refuses it.
    body = b"\x00\xff\x59\x02\xff\xff" + b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + EOT
    data = smf(body)
    with pytest.raises(mido.midifiles.meta.KeySignatureError):
        mido.MidiFile(file=__import__("io").BytesIO(data))
    with caplog.at_level(logging.WARNING):
        song = parse_midi(data)
    assert [n.pitch for n in song.notes] == [60]


def test_tempo_map_with_several_changes():
    # 120 qpm for one beat, then 60 qpm.
    tempo_1 = b"\x00\xff\x51\x03" + (500_000).to_bytes(3, "big")
    tempo_2 = b"\x60\xff\x51\x03" + (1_000_000).to_bytes(3, "big")
    song = parse_midi(smf(tempo_1 + tempo_2 + b"\x60\xff\x2f\x00"))
    assert [t.qpm for t in song.tempos] == [120.0, 60.0]
    assert song.tick_to_sec([0, 96, 192]).tolist() == [0.0, 0.5, 1.5]
    assert song.duration_sec == 1.5


def test_type2_tracks_play_one_after_another():
    first = b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + EOT
    second = b"\x00\x90\x3e\x64\x60\x80\x3e\x00" + EOT
    song = parse_midi(smf(first, second, fmt=2))
    assert [(n.pitch, n.start_tick) for n in song.notes] == [(60, 0), (62, 96)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"RIFF\x00\x00\x00\x00WAVE", "not a MIDI file"),
        (smf(b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + EOT)[:-6], "truncated"),
    ],
)
def test_garbage_is_refused_with_the_file_and_the_reason(data, reason):
    with pytest.raises(MidiFileError, match=f"^song.mid: .*{reason}"):
        parse_midi(data, "song.mid")


def test_caps_on_size_events_and_duration():
    data = smf(b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + b"\x83\x60\xff\x2f\x00")
    with pytest.raises(MidiFileError, match="bytes is over the limit"):
        parse_midi(data, "x.mid", ReadLimits(max_file_bytes=10))
    with pytest.raises(MidiFileError, match="over 2 events, the limit"):
        parse_midi(data, "x.mid", ReadLimits(max_events=2))
    with pytest.raises(MidiFileError, match="over the limit of 1 s"):
        parse_midi(data, "x.mid", ReadLimits(max_duration_sec=1.0))


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(MidiFileError, match="nope.mid: cannot read file"):
        read_midi(tmp_path / "nope.mid")


def test_write_keeps_tempo_time_signature_and_track_names(tmp_path):
    song = Song(
        ticks_per_beat=480,
        notes=(Note(0, 480, 60, 90, 0, 5, 1), Note(480, 960, 38, 100, 9, 0, 2)),
        tempos=(Tempo(0, 400_000), Tempo(960, 600_000)),
        time_signatures=(TimeSignature(0, 3, 4), TimeSignature(1440, 6, 8)),
        track_names=("Conductor", "Lead", "Drums"),
        end_tick=1920,
    )
    path = write_midi(song, tmp_path / "out.mid")
    # mido, an independent parser, reads the same file
    mid = mido.MidiFile(path)
    assert mid.type == 1
    assert [t.name for t in mid.tracks] == ["Conductor", "Lead", "Drums"]
    metas = [(m.type, m.dict()) for m in mid.tracks[0] if m.is_meta]
    assert [d["tempo"] for kind, d in metas if kind == "set_tempo"] == [400_000, 600_000]
    assert [
        (d["numerator"], d["denominator"]) for kind, d in metas if kind == "time_signature"
    ] == [
        (3, 4),
        (6, 8),
    ]
    notes_on = [m for t in mid.tracks for m in t if m.type == "note_on" and m.velocity > 0]
    assert [(m.note, m.velocity, m.channel) for m in notes_on] == [(60, 90, 0), (38, 100, 9)]
    assert read_midi(path) == song
    assert not [p for p in tmp_path.iterdir() if p.name != "out.mid"]  # no temp file left


NOTE_KEYS = st.tuples(st.integers(0, 3), st.integers(0, 15), st.integers(0, 127))


@st.composite
def songs(draw) -> Song:
    """Songs whose notes never overlap on one (track, channel, pitch), as read_midi returns."""
    tpb = draw(st.sampled_from([96, 120, 384, 480, 960]))
    notes = []
    for track, channel, pitch in draw(st.sets(NOTE_KEYS, max_size=12)):
        tick = 0
        for gap, length in draw(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 700)))):
            tick += gap
            program = draw(st.integers(0, 127))
            notes.append(Note(tick, tick + length, pitch, draw(st.integers(1, 127)), channel,
                              program, track))  # fmt: skip
            tick += length
    num_tracks = max([1] + [n.track + 1 for n in notes])
    end_tick = max([0] + [n.end_tick for n in notes]) + draw(st.integers(0, 100))
    tempo_ticks = draw(st.lists(st.integers(1, 5000), max_size=3, unique=True))
    tempos = [Tempo(0, draw(st.integers(200_000, 2_000_000)))]
    tempos += [Tempo(t, draw(st.integers(200_000, 2_000_000))) for t in sorted(tempo_ticks)]
    return Song(
        ticks_per_beat=tpb,
        notes=tuple(sorted(notes)),
        tempos=tuple(tempos),
        track_names=tuple(f"track {i}" for i in range(num_tracks)),
        end_tick=max([end_tick] + [t.tick for t in tempos]),
    )


def _program_consistent(song: Song) -> Song:
    # A program change applies to every later note of its channel in a track, so a file cannot
    # hold two sounding notes of one channel with different programs: give each (track, channel)
    # the program of its first note.
    first: dict[tuple[int, int], int] = {}
    for n in song.notes:
        first.setdefault((n.track, n.channel), n.program)
    notes = [
        Note(
            n.start_tick,
            n.end_tick,
            n.pitch,
            n.velocity,
            n.channel,
            first[n.track, n.channel],
            n.track,
        )  # fmt: skip
        for n in song.notes
    ]
    return Song(song.ticks_per_beat, tuple(sorted(notes)), song.tempos, song.time_signatures,
                song.track_names, song.end_tick)  # fmt: skip


@given(songs())
def test_write_then_read_round_trips_exactly_in_ticks(tmp_path_factory, song):
    song = _program_consistent(song)
    path = tmp_path_factory.mktemp("rt") / "song.mid"
    assert read_midi(write_midi(song, path)) == song


@given(songs(), st.sampled_from([1, 2, 3, 4, 6, 8, 12]))
def test_quantising_twice_equals_quantising_once(song, steps_per_quarter):
    once = quantize(song, steps_per_quarter)
    assert quantize(once, steps_per_quarter) == once
    assert all(n.end_tick > n.start_tick for n in once.notes)


def test_quantise_follows_magentas_rounding():
    # 480 ticks per beat, 4 steps per beat: 120 ticks per step; halves round up; a note that
    # snaps to zero length gets one step.
    notes = (
        Note(59, 181, 60),  # 0.49 -> 0, 1.51 -> 2
        Note(60, 419, 62),  # 0.5 -> 1, 3.49 -> 3
        Note(500, 530, 64),  # 4.17 and 4.42 -> 4, lengthened to 4..5
    )
    q = quantize(Song(480, notes, end_tick=600), 4)
    assert q.ticks_per_beat == 4
    assert [(n.start_tick, n.end_tick) for n in q.notes] == [(0, 2), (1, 3), (4, 5)]
    assert q.end_tick == 5


def test_max_polyphony_counts_back_to_back_notes_once():
    notes = [Note(0, 10, 60), Note(10, 20, 62), Note(5, 15, 64)]
    assert max_polyphony(notes) == 2


def test_unknown_chunks_system_bytes_and_trailing_bytes_are_skipped(caplog):
    junk_chunk = b"Junk" + struct.pack(">I", 3) + b"abc"
    # an F8 timing clock and an F2 song position (2 data bytes) inside the track: illegal in a
    # file, skipped; the note around them survives.
    body = b"\x00\x90\x3c\x64" + b"\x00\xf8" + b"\x00\xf2\x01\x02" + b"\x60\x80\x3c\x00" + EOT
    data = smf(body)
    data = data[:14] + junk_chunk + data[14:] + b"\x00\x00"
    with caplog.at_level(logging.WARNING):
        song = parse_midi(data, "odd.mid")
    assert [(n.pitch, n.end_tick) for n in song.notes] == [(60, 96)]


def test_running_status_survives_meta_and_sysex_events():
    body = (
        b"\x00\x90\x3c\x64"
        + b"\x00\xff\x01\x02hi"  # a text meta event
        + b"\x00\xf0\x02\x7e\xf7"  # a SysEx event
        + b"\x00\x40\x64"  # running status note-on E4
        + b"\x60\x3c\x00\x00\x40\x00"
        + EOT
    )
    assert [n.pitch for n in parse_midi(smf(body)).notes] == [60, 64]


def test_a_data_byte_with_no_status_is_refused():
    with pytest.raises(MidiFileError, match="bad.mid: corrupt MIDI data"):
        parse_midi(smf(b"\x00\x3c\x64" + EOT), "bad.mid")


def test_only_a_new_meter_is_a_meter_change():
    sigs = (TimeSignature(0, 3, 4), TimeSignature(960, 3, 4), TimeSignature(1920, 6, 8),
            TimeSignature(2880, 6, 8), TimeSignature(3840, 3, 4))  # fmt: skip
    assert meter_changes(sigs) == [sigs[0], sigs[2], sigs[4]]
    assert meter_changes(()) == []
