"""Song builders and hypothesis strategies shared by the arrange tests."""

from __future__ import annotations

from hypothesis import strategies as st

from chipline.score import DRUM_CHANNEL, Note, Song, Tempo, TimeSignature


def song_of(notes: list[Note], ticks_per_beat: int = 4, **kwargs: object) -> Song:
    notes = sorted(notes)
    end = max([0] + [n.end_tick for n in notes])
    return Song(ticks_per_beat=ticks_per_beat, notes=tuple(notes), end_tick=end, **kwargs)


def chord(start: int, end: int, *pitches: int, velocity: int = 100) -> list[Note]:
    return [Note(start, end, p, velocity) for p in pitches]


def drum(start: int, key: int, velocity: int = 100) -> Note:
    return Note(start, start + 1, key, velocity, channel=DRUM_CHANNEL)


@st.composite
def notes_st(draw: st.DrawFn, max_tick: int = 64, drums: bool = True) -> Note:
    start = draw(st.integers(0, max_tick))
    length = draw(st.integers(1, 24))
    channel = draw(st.sampled_from([0, 1, DRUM_CHANNEL] if drums else [0, 1]))
    pitch = draw(st.integers(0, 127))
    return Note(start, start + length, pitch, draw(st.integers(1, 127)), channel)


@st.composite
def songs_st(draw: st.DrawFn, drums: bool = True, max_notes: int = 40) -> Song:
    notes = draw(st.lists(notes_st(drums=drums), min_size=1, max_size=max_notes))
    tpb = draw(st.sampled_from([2, 4, 96, 480]))
    scale = tpb // 4 if tpb >= 4 else 1
    notes = [
        Note(n.start_tick * scale, n.end_tick * scale, n.pitch, n.velocity, n.channel)
        for n in notes
    ]
    tempos = [Tempo(0, draw(st.integers(200_000, 1_500_000)))]
    if draw(st.booleans()):
        tempos.append(Tempo(draw(st.integers(1, 40)) * scale, draw(st.integers(200_000, 900_000))))
    sig = TimeSignature(0, draw(st.sampled_from([3, 4, 6, 7])), draw(st.sampled_from([4, 8])))
    return song_of(notes, tpb, tempos=tuple(tempos), time_signatures=(sig,))
