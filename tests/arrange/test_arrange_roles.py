"""Who plays what: melody, bass, inner voices, arpeggios, VRC6 voices, drums, bad input."""

from __future__ import annotations

import pytest
from arrange_songs import chord, drum, song_of

from chipline.arrange import ArrangeConfig, arrange
from chipline.chip import ChipScore
from chipline.errors import ConfigError, EncodingError
from chipline.score import Note


def by_voice(score: ChipScore, voice: str) -> list[tuple[int, int, tuple[int, ...]]]:
    return [(n.start_tick, n.end_tick, n.pitches) for n in score.notes if n.voice == voice]


def test_four_note_chord_nes_splits_melody_bass_and_arpeggio() -> None:
    score = arrange(song_of(chord(0, 16, 48, 64, 67, 72)))
    assert by_voice(score, "Pulse 1") == [(0, 16, (72,))]
    assert by_voice(score, "Triangle") == [(0, 16, (48,))]
    assert by_voice(score, "Pulse 2") == [(0, 16, (64, 67))]
    assert by_voice(score, "Noise") == []


def test_without_arpeggio_pulse2_keeps_the_most_salient_inner_note() -> None:
    # 60 doubles the bass (48) an octave up; 64 (the third) is kept.
    score = arrange(song_of(chord(0, 16, 48, 60, 64, 72)), ArrangeConfig(arpeggio=False))
    assert by_voice(score, "Pulse 2") == [(0, 16, (64,))]


def test_three_note_chord_plays_without_arpeggio() -> None:
    score = arrange(song_of(chord(0, 8, 50, 62, 69)))
    assert [len(n.pitches) for n in score.notes] == [1, 1, 1]
    assert by_voice(score, "Pulse 2") == [(0, 8, (62,))]


def test_vrc6_plays_a_six_note_chord_without_arpeggio() -> None:
    pitches = (43, 55, 59, 62, 65, 74)
    score = arrange(song_of(chord(0, 16, *pitches)), ArrangeConfig(chip="vrc6"))
    assert all(len(n.pitches) == 1 for n in score.notes)
    assert sorted(n.pitches[0] for n in score.notes) == sorted(pitches)
    assert len({n.voice for n in score.notes}) == 6


def test_short_note_above_the_melody_does_not_steal_it() -> None:
    melody = Note(0, 16, 72)
    grace = Note(4, 5, 79)  # a 64th note at 16 ticks per beat: shorter than steal_beats
    score = arrange(song_of([melody, grace, Note(0, 16, 48)], ticks_per_beat=16))
    assert by_voice(score, "Pulse 1") == [(0, 16, (72,))]
    assert (4, 5, (79,)) in by_voice(score, "Pulse 2")


def test_long_note_above_the_melody_takes_over() -> None:
    score = arrange(song_of([Note(0, 16, 72), Note(4, 12, 79), Note(0, 16, 48)]))
    assert by_voice(score, "Pulse 1") == [(0, 4, (72,)), (4, 12, (79,)), (12, 16, (72,))]


def test_notes_fold_by_octaves_into_each_role_range() -> None:
    score = arrange(song_of(chord(0, 8, 12, 110)))
    assert by_voice(score, "Pulse 1") == [(0, 8, (86,))]
    assert by_voice(score, "Triangle") == [(0, 8, (36,))]


def test_drums_map_to_the_noise_kit() -> None:
    score = arrange(song_of([drum(0, 36), drum(4, 38), drum(4, 36), drum(8, 42), Note(0, 16, 60)]))
    noise = [n for n in score.notes if n.voice == "Noise"]
    assert [n.start_tick for n in noise] == [0, 4, 8]
    kick, snare, hat = noise
    assert snare.pitches[0] < kick.pitches[0]  # the snare is brighter than the kick
    assert hat.pitches[0] < snare.pitches[0]
    assert all(n.end_tick <= m.start_tick for n, m in zip(noise, noise[1:], strict=False))


def test_only_drums_gives_a_noise_only_score() -> None:
    score = arrange(song_of([drum(t, 36) for t in range(0, 16, 4)]))
    assert {n.voice for n in score.notes} == {"Noise"}
    assert score.end_tick == 16


def test_no_notes_is_a_clear_error() -> None:
    with pytest.raises(EncodingError, match="no notes"):
        arrange(song_of([]))


def test_end_tick_is_rounded_up_to_a_bar_line() -> None:
    score = arrange(song_of([Note(0, 17, 60)]))
    assert score.end_tick == 32  # 4 ticks per beat, 4/4: bars of 16 ticks
    assert arrange(song_of([Note(0, 16, 60)])).end_tick == 16


def test_score_keeps_tempos_signatures_and_preset_instruments() -> None:
    song = song_of([Note(0, 4, 60)])
    score = arrange(song, ArrangeConfig(chip="vrc6"))
    assert score.tempos == song.tempos
    assert score.time_signatures == song.time_signatures
    assert set(score.instruments) == set(score.voices)
    assert score.instruments["Pulse 1"].duty == 1


def test_a_humanised_chord_attacks_at_once() -> None:
    notes = [Note(0, 96, 48), Note(2, 96, 60), Note(3, 96, 64), Note(1, 96, 67), Note(0, 96, 72)]
    score = arrange(song_of(notes, ticks_per_beat=96))
    assert {(n.start_tick, n.end_tick) for n in score.notes} == {(0, 96)}
    assert by_voice(score, "Pulse 2") == [(0, 96, (60, 64, 67))]


def test_a_legato_overlap_hands_the_melody_over_without_a_gap() -> None:
    notes = [Note(0, 96, 76), Note(94, 192, 72), Note(0, 192, 48)]
    score = arrange(song_of(notes, ticks_per_beat=96))
    assert by_voice(score, "Pulse 1") == [(0, 94, (76,)), (94, 192, (72,))]
    assert by_voice(score, "Pulse 2") == []
    unmerged = arrange(song_of(notes, ticks_per_beat=96), ArrangeConfig(merge_beats=0))
    assert by_voice(unmerged, "Pulse 2") == [(94, 96, (72,))]


@pytest.mark.parametrize(
    ("inner", "kept"),
    [
        ((55, 64), 64),  # the third over the fifth
        ((58, 67), 58),  # the seventh over the fifth
        ((60, 67), 67),  # the fifth over an octave of the bass
        ((62, 67), 67),  # an octave of the melody (62) comes last
    ],
)
def test_without_arpeggio_the_chord_defining_inner_note_is_kept(
    inner: tuple[int, int], kept: int
) -> None:
    score = arrange(song_of(chord(0, 16, 48, *inner, 74)), ArrangeConfig(arpeggio=False))
    assert by_voice(score, "Pulse 2") == [(0, 16, (kept,))]


def test_a_sustained_inner_note_keeps_playing_when_another_begins() -> None:
    notes = [Note(0, 16, 48), Note(0, 16, 76), Note(0, 16, 55), Note(8, 16, 64)]
    score = arrange(song_of(notes), ArrangeConfig(arpeggio=False))
    assert by_voice(score, "Pulse 2") == [(0, 16, (55,))]


def test_repeated_triangle_notes_are_separated_by_a_frame() -> None:
    # 480 ticks per beat at 120 qpm: a frame is 16 ticks.
    bass = [Note(0, 240, 40), Note(240, 480, 40), Note(480, 960, 43)]
    score = arrange(song_of([*bass, Note(0, 960, 72)], ticks_per_beat=480))
    assert by_voice(score, "Triangle") == [(0, 224, (40,)), (240, 480, (40,)), (480, 960, (43,))]
    legato = arrange(
        song_of([*bass, Note(0, 960, 72)], ticks_per_beat=480),
        ArrangeConfig(triangle_gap_frames=0),
    )
    assert by_voice(legato, "Triangle")[0] == (0, 240, (40,))


def test_melody_track_picks_the_tune_under_a_higher_pad() -> None:
    pad = [Note(0, 16, 84, track=2)]
    tune = [Note(0, 4, 67, track=1), Note(4, 8, 69, track=1), Note(8, 16, 72, track=1)]
    bass = [Note(0, 16, 43, track=3)]
    song = song_of(pad + tune + bass)
    assert by_voice(arrange(song), "Pulse 1") == [(0, 16, (84,))]
    chosen = arrange(song, ArrangeConfig(melody_track=1))
    assert by_voice(chosen, "Pulse 1") == [(0, 4, (67,)), (4, 8, (69,)), (8, 16, (72,))]
    assert by_voice(chosen, "Pulse 2") == [(0, 16, (84,))]


def test_melody_track_without_notes_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no pitched notes on track 7; tracks with pitched"):
        arrange(song_of([Note(0, 4, 60, track=1)]), ArrangeConfig(melody_track=7))
