"""Properties of `arrange` over random songs: monophony, ranges, determinism, the top line."""

from __future__ import annotations

from arrange_songs import song_of, songs_st
from hypothesis import given
from hypothesis import strategies as st

from chipline.arrange import ArrangeConfig, arrange
from chipline.chip import VOICES, ChipScore
from chipline.score import Note, Song

CONFIGS = [ArrangeConfig(), ArrangeConfig(chip="vrc6"), ArrangeConfig(arpeggio=False)]


def check_monophonic(score: ChipScore) -> None:
    for voice in score.voices:
        notes = sorted((n for n in score.notes if n.voice == voice), key=lambda n: n.start_tick)
        for a, b in zip(notes, notes[1:], strict=False):
            assert a.end_tick <= b.start_tick, (voice, a, b)
        for n in notes:
            assert 0 <= n.start_tick < n.end_tick <= score.end_tick


def check_ranges(score: ChipScore, config: ArrangeConfig) -> None:
    for n in score.notes:
        voice = VOICES[n.voice]
        assert all(voice.low <= p <= voice.high for p in n.pitches), n
        assert 0 <= n.volume <= 15
        if n.voice == "Pulse 1":
            assert all(config.melody_range[0] <= p <= config.melody_range[1] for p in n.pitches)
        if n.voice == "Triangle":
            assert all(config.bass_range[0] <= p <= config.bass_range[1] for p in n.pitches)
        if voice.kind == "noise":
            assert n.timbre in (0, 1)


@given(songs_st())
def test_voices_are_monophonic_in_range_and_on_the_chip(song: Song) -> None:
    for config in CONFIGS:
        score = arrange(song, config)
        assert {n.voice for n in score.notes} <= set(score.voices)
        check_monophonic(score)
        check_ranges(score, config)
        if not config.arpeggio or config.chip == "vrc6":
            assert all(len(n.pitches) == 1 for n in score.notes if n.voice == "Pulse 2")


@given(songs_st())
def test_arrange_is_deterministic_and_ends_on_a_bar_line(song: Song) -> None:
    first, second = arrange(song), arrange(song)
    assert first == second
    last = max(n.end_tick for n in song.notes)
    assert first.end_tick >= last
    assert first.end_tick in song.bar_ticks() + [song.bar_ticks()[-1] + bar_of(song)]


def bar_of(song: Song) -> int:
    sig = song.time_signatures[-1]
    return song.ticks_per_beat * 4 * sig.numerator // sig.denominator


@given(songs_st(drums=False))
def test_a_stable_top_note_is_the_melody(song: Song) -> None:
    """A note strictly above every note it overlaps, long enough to steal, plays on Pulse 1."""
    config = ArrangeConfig()
    score = arrange(song, config)
    steal_ticks = round(config.steal_beats * song.ticks_per_beat)
    pulse1 = [n for n in score.notes if n.voice == "Pulse 1"]
    for n in song.notes:
        others = [
            m
            for m in song.notes
            if m is not n and m.start_tick < n.end_tick and m.end_tick > n.start_tick
        ]
        if n.end_tick - n.start_tick < steal_ticks or any(m.pitch >= n.pitch for m in others):
            continue
        assert any(
            c.start_tick == n.start_tick
            and c.end_tick == n.end_tick
            and c.pitches[0] % 12 == n.pitch % 12
            for c in pulse1
        ), (n, pulse1)


@given(songs_st(drums=False))
def test_no_attack_goes_silent(song: Song) -> None:
    """Wherever a pitched note attacks, some voice of the chip plays."""
    score = arrange(song)
    for n in song.notes:
        mid = n.start_tick
        assert any(c.start_tick <= mid < c.end_tick for c in score.notes), n


@given(
    st.lists(st.integers(24, 108), min_size=2, max_size=6, unique_by=lambda p: p % 12),
    st.integers(1, 64),
)
def test_vrc6_plays_chords_of_up_to_six_notes_without_arpeggio(
    pitches: list[int], length: int
) -> None:
    song = song_of([Note(0, length, p) for p in pitches])
    score = arrange(song, ArrangeConfig(chip="vrc6"))
    assert all(len(n.pitches) == 1 for n in score.notes)
    assert sorted(n.pitches[0] % 12 for n in score.notes) == sorted(p % 12 for p in pitches)
