"""The arranged MIDI: track names, conventions, and the to_song/from_song round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from arrange_songs import chord, drum, song_of, songs_st
from hypothesis import given
from hypothesis import strategies as st

from chipline.arrange import ArrangeConfig, arrange, from_song, to_song, write_arranged_midi
from chipline.arrange.midi import (
    CHANNELS,
    noise_key,
    noise_period_mode,
    velocity_of,
    volume_of,
)
from chipline.chip import ChipNote, ChipScore
from chipline.errors import EncodingError
from chipline.score import DRUM_CHANNEL, Note, Song, read_midi


def test_track_names_are_the_contract() -> None:
    song = song_of(chord(0, 8, 48, 60, 64, 67) + [drum(0, 36)])
    assert to_song(arrange(song)).track_names == ("Pulse 1", "Pulse 2", "Triangle", "Noise")
    assert to_song(arrange(song, ArrangeConfig(chip="vrc6"))).track_names == (
        "Pulse 1",
        "Pulse 2",
        "Triangle",
        "Noise",
        "VRC6 Pulse 1",
        "VRC6 Pulse 2",
        "VRC6 Saw",
    )


def test_volume_velocity_map_inverts_for_heads_and_arpeggio_frames() -> None:
    heads = [velocity_of(v) for v in range(16)]
    assert heads[15] == 127
    assert len(set(heads)) == 16
    for volume, velocity in enumerate(heads):
        assert volume_of(velocity) == volume
        assert volume_of(velocity - 1) == volume
        assert velocity - 1 not in heads
        assert velocity - 1 >= 1


def test_noise_key_map_inverts() -> None:
    keys = {noise_key(p, m): (p, m) for p in range(16) for m in (0, 1)}
    assert len(keys) == 32
    assert all(noise_period_mode(k) == pm for k, pm in keys.items())
    assert noise_key(15, 0) < noise_key(0, 0)  # a higher key is a brighter noise
    assert noise_period_mode(20) is None


def test_arpeggio_is_written_as_one_note_per_frame() -> None:
    # 480 ticks per beat at 120 qpm: a frame (1/60.0988 s) is 15.97 ticks.
    score = arrange(song_of(chord(0, 480, 48, 60, 64, 67, 72), ticks_per_beat=480))
    arp = next(n for n in score.notes if n.voice == "Pulse 2")
    assert arp.pitches == (60, 64, 67)
    frames = [n for n in to_song(score).notes if n.track == 1]
    assert len(frames) == pytest.approx(0.5 * 60.0988, abs=1)
    assert [n.pitch for n in frames[:4]] == [60, 64, 67, 60]
    assert frames[0].velocity == velocity_of(arp.volume)
    assert {n.velocity for n in frames[1:]} == {velocity_of(arp.volume) - 1}
    assert all(a.end_tick == b.start_tick for a, b in zip(frames, frames[1:], strict=False))
    assert all(n.end_tick - n.start_tick in (15, 16) for n in frames[:-1])


def test_voices_have_their_own_channels_and_noise_is_channel_10() -> None:
    song = to_song(arrange(song_of(chord(0, 8, 48, 60, 72) + [drum(0, 38)])))
    names = song.track_names
    for n in song.notes:
        assert n.channel == CHANNELS[names[n.track]]
    assert any(n.channel == DRUM_CHANNEL for n in song.notes)


@given(songs_st())
def test_to_song_from_song_round_trips(song: Song) -> None:
    for config in (ArrangeConfig(), ArrangeConfig(chip="vrc6")):
        score = arrange(song, config)
        assert from_song(to_song(score)) == score


@pytest.mark.parametrize("chip", ["nes", "vrc6"])
def test_round_trip_through_a_file(tmp_path: Path, chip: str) -> None:
    song = song_of(chord(0, 96, 40, 55, 59, 62, 67) + [drum(0, 36), drum(48, 42)], 96)
    score = arrange(song, ArrangeConfig(chip=chip))  # type: ignore[arg-type]
    path = write_arranged_midi(score, tmp_path / "out.mid")
    song_back = read_midi(path)
    assert song_back.track_names == score.voices
    assert from_song(song_back) == score
    assert [p.name for p in tmp_path.iterdir()] == ["out.mid"]


def test_round_trip_keeps_explicit_duty_and_repeated_notes() -> None:
    score = ChipScore(
        chip="nes",
        ticks_per_beat=4,
        notes=(
            ChipNote("Pulse 1", 0, 4, (60,), 12, timbre=3),
            ChipNote("Pulse 2", 0, 8, (64, 67, 71), 9),
            ChipNote("Noise", 0, 2, (5,), 11, timbre=1),
            ChipNote("Pulse 1", 4, 8, (60,), 12),
        ),
        tempos=song_of([]).tempos,
        time_signatures=song_of([]).time_signatures,
        end_tick=16,
        instruments=arrange(song_of([Note(0, 1, 60)])).instruments,
    )
    assert from_song(to_song(score)) == score


def test_from_song_needs_voice_tracks() -> None:
    with pytest.raises(EncodingError, match="no track is named"):
        from_song(song_of([Note(0, 4, 60)], track_names=("Piano",)))


def test_from_song_rejects_overlapping_notes_in_a_voice() -> None:
    song = song_of([Note(0, 4, 60), Note(2, 6, 64)], track_names=("Pulse 1",))
    with pytest.raises(EncodingError, match="overlap"):
        from_song(song)


@st.composite
def edited_tracks(draw: st.DrawFn) -> Song:
    """A hand-edited arranged MIDI: voice tracks of separate notes, any keys and velocities."""
    notes = []
    for track in range(4):
        tick = 0
        for _ in range(draw(st.integers(0, 8))):
            tick += draw(st.integers(0, 3))
            length = draw(st.integers(1, 4))
            key, velocity = draw(st.integers(0, 127)), draw(st.integers(1, 127))
            notes.append(Note(tick, tick + length, key, velocity, track=track))
            tick += length
    return song_of(notes, track_names=("Pulse 1", "Pulse 2", "Triangle", "Noise"))


@given(edited_tracks())
def test_from_song_reads_any_edited_arrangement_or_names_the_bad_key(song: Song) -> None:
    if any(n.track == 3 and noise_period_mode(n.pitch) is None for n in song.notes):
        with pytest.raises(EncodingError, match="outside the noise key map"):
            from_song(song)
        return
    score = from_song(song)
    for voice in score.voices:
        notes = [n for n in score.notes if n.voice == voice]
        assert all(a.end_tick <= b.start_tick for a, b in zip(notes, notes[1:], strict=False))
    assert sum(n.end_tick - n.start_tick for n in score.notes) == sum(
        n.end_tick - n.start_tick for n in song.notes
    )
