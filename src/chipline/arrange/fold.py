"""Octave folding: moving notes into a voice's range, a whole phrase at a time where it fits."""

from __future__ import annotations

from collections.abc import Sequence

from chipline.arrange.allocate import Segment


def fold(pitch: int, low: int, high: int) -> int:
    """`pitch` moved by whole octaves into [low, high] (which spans at least 12 keys)."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def phrase_shifts(
    segments: Sequence[Segment],
    ranges: dict[str, tuple[int, int]],
    rest_ticks: int,
    max_phrase_ticks: int,
) -> list[int]:
    """Semitones (a multiple of 12) to move each single-pitch segment by, or 0.

    A phrase is a run of one voice's single-pitch segments with no rest of `rest_ticks` or more,
    at most `max_phrase_ticks` long. When some of its notes lie outside the voice's range and
    the whole phrase fits in the range, the whole phrase moves by the smallest number of
    octaves, so its contour survives; otherwise each note is folded alone (`fold`).
    Arpeggios are never moved as phrases (their tones fold into a compact chord by themselves).
    """
    shifts = [0] * len(segments)
    if max_phrase_ticks <= 0:
        return shifts
    for voice, (low, high) in ranges.items():
        members = [k for k, s in enumerate(segments) if s.voice == voice and len(s.pitches) == 1]
        for phrase in _phrases(segments, members, rest_ticks, max_phrase_ticks):
            shift = _phrase_shift([segments[k].pitches[0] for k in phrase], low, high)
            for k in phrase:
                shifts[k] = shift
    return shifts


def _phrases(
    segments: Sequence[Segment], members: list[int], rest_ticks: int, max_ticks: int
) -> list[list[int]]:
    phrases: list[list[int]] = []
    for k in members:
        seg = segments[k]
        if phrases:
            first, last = segments[phrases[-1][0]], segments[phrases[-1][-1]]
            joined = seg.start_tick - last.end_tick < rest_ticks
            if joined and seg.end_tick - first.start_tick <= max_ticks:
                phrases[-1].append(k)
                continue
        phrases.append([k])
    return phrases


def _phrase_shift(pitches: list[int], low: int, high: int) -> int:
    lowest, highest = min(pitches), max(pitches)
    if low <= lowest and highest <= high:
        return 0
    if highest - lowest > high - low:
        return 0  # wider than the range: each note folds alone
    up = -(-(low - lowest) // 12) * 12  # the smallest octave shift that lifts the lowest in
    down = ((high - highest) // 12) * 12  # the largest shift that keeps the highest in
    return up if up > 0 else down  # the in-range shift nearest to none
