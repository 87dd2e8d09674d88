"""Voice allocation: pitched notes → melody, bass and harmony segments, slice by slice.

The piece is cut at every note start and end. In each slice the melody voice keeps its note
("favour playing") unless a new note attacks above everything that sounds and lasts at least
`steal_ticks` (skyline with hysteresis); the bass does the same from below; the notes left are
inner voices, one per harmony voice, or an arpeggio on the last harmony voice when there are more
inner notes than voices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from chipline.score import Note


@dataclass(frozen=True)
class Segment:
    """What one voice plays over [start_tick, end_tick): source pitches (unfolded), the source
    notes (indexes into the allocated sequence) and the loudest velocity among them."""

    voice: str
    start_tick: int
    end_tick: int
    sources: tuple[int, ...]
    pitches: tuple[int, ...]
    velocity: int


@dataclass(frozen=True)
class Roles:
    """Which voice plays what: the melody, the bass, and the inner voices in order of use."""

    melody: str
    bass: str
    harmony: tuple[str, ...]
    steal_ticks: int
    arpeggio: bool
    max_arpeggio_tones: int
    melody_track: int | None = None  # only this MIDI track's notes may be the melody


@dataclass
class _State:
    melody: int | None = None
    bass: int | None = None
    harmony: dict[str, int] = field(default_factory=dict)  # voice -> the single note it holds
    last_pitch: dict[str, int] = field(default_factory=dict)  # voice -> its last pitch


def allocate(notes: Sequence[Note], roles: Roles) -> list[Segment]:
    """Split the pitched `notes` among the voices of `roles`; voices never overlap themselves."""
    starts: dict[int, list[int]] = defaultdict(list)
    ends: dict[int, list[int]] = defaultdict(list)
    for i, n in enumerate(notes):
        starts[n.start_tick].append(i)
        ends[n.end_tick].append(i)
    bounds = sorted(set(starts) | set(ends))
    state = _State()
    active: set[int] = set()
    out: list[Segment] = []
    # voice -> [start_tick, end_tick, sources, pitches]: the segment still growing on that voice
    growing: dict[str, list] = {}
    for t, t_next in zip(bounds, bounds[1:], strict=False):
        active.difference_update(ends.get(t, ()))
        new = starts.get(t, [])
        active.update(new)
        if not active:
            continue
        for voice, (sources, pitches) in _assign(notes, active, new, state, roles).items():
            prev = growing.get(voice)
            if prev and prev[1] == t and prev[2] == sources and prev[3] == pitches:
                prev[1] = t_next
                continue
            if prev:
                out.append(_segment(notes, voice, prev))
            growing[voice] = [t, t_next, sources, pitches]
    out.extend(_segment(notes, voice, g) for voice, g in growing.items())
    out.sort(key=lambda s: (s.start_tick, s.voice))
    return out


def _segment(notes: Sequence[Note], voice: str, g: list) -> Segment:
    velocity = max(notes[i].velocity for i in g[2])
    return Segment(voice, g[0], g[1], g[2], g[3], velocity)


def _assign(
    notes: Sequence[Note], active: set[int], new: list[int], state: _State, roles: Roles
) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    if state.melody not in active:
        state.melody = None
    if state.bass not in active:
        state.bass = None
    state.melody = _pick_melody(notes, active, new, state, roles)
    state.bass = _pick_bass(notes, active, new, state, roles.steal_ticks)
    result: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    if state.melody is not None:
        result[roles.melody] = ((state.melody,), (notes[state.melody].pitch,))
    if state.bass is not None:
        result[roles.bass] = ((state.bass,), (notes[state.bass].pitch,))
    pool = _inner_pool(notes, active, state)
    result.update(_assign_harmony(notes, pool, state, roles))
    return result


def _pitch_key(notes: Sequence[Note], i: int) -> tuple[int, int, int]:
    # Ties between equal pitches go to the earlier note, then the earlier index: deterministic.
    return (notes[i].pitch, -notes[i].start_tick, -i)


def _pick_melody(
    notes: Sequence[Note], active: set[int], new: list[int], state: _State, roles: Roles
) -> int | None:
    others = active - {state.bass}
    if roles.melody_track is not None:
        others = {i for i in others if notes[i].track == roles.melody_track}
    if not others:
        return state.melody
    top = max(others, key=lambda i: _pitch_key(notes, i))
    if state.melody is None:
        return top
    current = notes[state.melody]
    candidate = notes[top]
    if (
        top in new
        and candidate.pitch > current.pitch
        and candidate.end_tick - candidate.start_tick >= roles.steal_ticks
    ):
        return top
    return state.melody


def _pick_bass(
    notes: Sequence[Note], active: set[int], new: list[int], state: _State, steal_ticks: int
) -> int | None:
    others = active - {state.melody}
    if state.bass is not None:
        others.discard(state.bass)
        if not others:
            return state.bass
        low = min(others, key=lambda i: _pitch_key(notes, i))
        candidate, current = notes[low], notes[state.bass]
        if (
            low in new
            and candidate.pitch < current.pitch
            and candidate.end_tick - candidate.start_tick >= steal_ticks
        ):
            return low
        return state.bass
    if not others:
        return None
    return min(others, key=lambda i: (notes[i].pitch, notes[i].start_tick, i))


def _inner_pool(notes: Sequence[Note], active: set[int], state: _State) -> list[int]:
    """The inner notes of the slice, one per pitch, without unisons of the melody or bass."""
    taken = {notes[i].pitch for i in (state.melody, state.bass) if i is not None}
    held = set(state.harmony.values())
    by_pitch: dict[int, int] = {}
    for i in sorted(active - {state.melody, state.bass}):
        p = notes[i].pitch
        if p in taken:
            continue
        j = by_pitch.get(p)
        if j is None or (i in held, -notes[i].start_tick) > (j in held, -notes[j].start_tick):
            by_pitch[p] = i
    return sorted(by_pitch.values(), key=lambda i: (notes[i].pitch, i))


# How much an inner note's interval above the bass (semitones mod 12) says about the chord:
# thirds and sevenths first, then the other colour tones, then the fifth, then octaves.
INTERVAL_RANK = (3, 1, 1, 0, 0, 1, 1, 2, 1, 1, 0, 0)


def _salience(notes: Sequence[Note], state: _State, i: int) -> tuple[int, int, int]:
    """Sort key, most salient first: not an octave of the melody, the interval above the bass
    (`INTERVAL_RANK`), then the higher note."""
    pitch = notes[i].pitch
    melody_double = state.melody is not None and (pitch - notes[state.melody].pitch) % 12 == 0
    rank = INTERVAL_RANK[(pitch - notes[state.bass].pitch) % 12] if state.bass is not None else 0
    return (melody_double, rank, -pitch)


def _assign_harmony(
    notes: Sequence[Note], pool: list[int], state: _State, roles: Roles
) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    voices = roles.harmony
    use_arpeggio = roles.arpeggio and len(pool) > len(voices)
    singles = voices[:-1] if use_arpeggio else voices
    held = {v: i for v, i in state.harmony.items() if v in singles and i in pool}
    ranked = sorted(pool, key=lambda i: (i not in held.values(), _salience(notes, state, i), i))
    chosen = ranked[: len(singles)]
    held = {v: i for v, i in held.items() if i in chosen}
    free_voices = [v for v in singles if v not in held]
    free_voices.sort(key=lambda v: -state.last_pitch.get(v, -1))
    fresh = sorted((i for i in chosen if i not in held.values()), key=lambda i: -notes[i].pitch)
    assignment = dict(held)
    assignment.update(zip(free_voices, fresh, strict=False))
    state.harmony = assignment
    result: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for voice, i in assignment.items():
        state.last_pitch[voice] = notes[i].pitch
        result[voice] = ((i,), (notes[i].pitch,))
    if use_arpeggio:
        rest = [i for i in ranked if i not in assignment.values()]
        tones = sorted(rest[: roles.max_arpeggio_tones], key=lambda i: (notes[i].pitch, i))
        result[voices[-1]] = (tuple(tones), tuple(notes[i].pitch for i in tones))
    return result
