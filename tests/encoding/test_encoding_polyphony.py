"""Magenta's polyphonic encoding: token layout, parity with Magenta's encoder, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipline.encoding import polyphony as poly
from chipline.encoding.polyphony_grammar import GrammarState, check_grammar, grammar_error
from chipline.errors import EncodingError
from chipline.score import Note, Song, quantize, read_midi
from conftest import shared_data


def test_token_layout_is_magentas():
    assert (poly.START, poly.END, poly.STEP_END) == (0, 1, 2)
    assert poly.new_note(0) == 3
    assert poly.new_note(127) == 130
    assert poly.continued_note(0) == 131
    assert poly.continued_note(127) == 258
    assert poly.VOCAB_SIZE == 259
    assert poly.token_name(72) == "NEW_NOTE(69)"


def _reference():
    return json.loads(shared_data("magenta-fixture", "reference.json").read_text())


def test_encoder_matches_magentas_on_a_real_chorale():
    ref = _reference()["sequences"][0]
    song = quantize(read_midi(shared_data("midi", "bach-magenta", ref["source"]["midi_file"])))
    tokens = poly.encode(song)
    assert tokens.size == ref["source"]["full_encoded_length_events"]
    assert tokens[: ref["num_positions"]].tolist() == ref["input_indices"]


def test_hand_written_magenta_sequence_round_trips():
    ref = _reference()["sequences"][1]["input_indices"]
    assert grammar_error(ref) is None
    assert poly.encode(quantize(poly.decode(ref))).tolist() == ref


def test_decode_writes_velocity_100_program_0_and_the_tempo():
    song = poly.decode([0, 63, 2, 191, 2, 1], qpm=90.0)
    assert [(n.start_tick, n.end_tick, n.pitch, n.velocity, n.program) for n in song.notes] == [
        (0, 110, 60, 100, 0)
    ]
    assert song.qpm == pytest.approx(90.0, abs=1e-3)
    assert song.end_tick == 110


def test_encode_refuses_an_unquantised_song():
    with pytest.raises(EncodingError, match="quantise it first"):
        poly.encode(Song(ticks_per_beat=480, notes=(Note(0, 480, 60),)))


_notes = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 12), st.integers(0, 127)), max_size=25
)


def _normalize(notes, num_steps):
    """The notes as the encoding keeps them: cut at the end; of one pitch, the oldest ends first."""
    out = []
    for pitch in {p for _, _, p in notes}:
        starts = sorted(s for s, _, p in notes if p == pitch and s < num_steps)
        ends = sorted(min(s + d, num_steps) for s, d, p in notes if p == pitch and s < num_steps)
        out.extend(zip(starts, ends, [pitch] * len(starts), strict=True))
    return sorted(out)


@given(_notes, st.integers(0, 10))
def test_decode_of_encode_is_the_normalised_notes(notes, extra_steps):
    num_steps = max([s + d for s, d, _ in notes], default=0) - 5 + extra_steps
    num_steps = max(num_steps, 0)
    starts, durations, pitches = (
        (np.array(x, dtype=np.int64) for x in zip(*notes, strict=False))
        if notes
        else (np.zeros(0, np.int64),) * 3
    )
    tokens = poly.encode_notes(starts, starts + durations, pitches, num_steps)
    assert tokens.dtype == np.uint16
    assert int(tokens.max()) < poly.VOCAB_SIZE
    assert grammar_error(tokens) is None
    decoded, steps = poly.decode_notes(tokens)
    assert steps == num_steps
    assert decoded == _normalize(notes, num_steps)


@st.composite
def _grammatical(draw, strict=False):
    state = GrammarState(1, strict)
    tokens = [poly.START]
    state.advance([poly.START])
    for _ in range(draw(st.integers(0, 60))):
        allowed = np.flatnonzero(state.allowed(allow_end=False)[0])
        token = int(allowed[draw(st.integers(0, allowed.size - 1))])
        tokens.append(token)
        state.advance([token])
    if tokens[-1] != poly.STEP_END and len(tokens) > 1:
        tokens.append(poly.STEP_END)
    return [*tokens, poly.END]


@given(_grammatical())
def test_encode_of_decode_is_identity_on_grammatical_tokens(tokens):
    assert grammar_error(tokens) is None
    song = quantize(poly.decode(tokens))  # trailing empty steps live in end_tick
    assert poly.encode(song, num_steps=song.end_tick).tolist() == tokens


@given(_grammatical(strict=True))
def test_strict_grammar_never_repeats_a_pitch_in_a_step(tokens):
    step: list[int] = []
    for t in tokens:
        if t == poly.STEP_END:
            step = []
        elif t >= poly.NEW_NOTE_BASE:
            pitch = (t - 3) % 128
            assert pitch not in step
            step.append(pitch)


@pytest.mark.parametrize(
    ("tokens", "why"),
    [
        ([], "empty"),
        ([2, 1], "STEP_END is not allowed"),
        ([0, 63, 1], "END is not allowed"),
        ([0, 191, 2, 1], "CONTINUED_NOTE.60. is not allowed"),
        ([0, 60, 63, 2, 1], "NEW_NOTE.60. is not allowed"),
        ([0, 63, 2], "does not end with END"),
        ([0, 2, 1, 2], "after END"),
        ([0, 0, 1], "START is not allowed"),
        ([0, 300, 1], "outside the vocabulary"),
    ],
)
def test_grammar_names_the_problem(tokens, why):
    with pytest.raises(EncodingError, match=why):
        check_grammar(tokens)


def test_unison_is_grammatical_but_not_strict():
    tokens = [0, 63, 63, 2, 191, 191, 2, 1]
    assert grammar_error(tokens) is None
    assert grammar_error(tokens, strict=True) is not None


def test_transpose_moves_notes_and_refuses_to_leave_the_range():
    tokens = np.array([0, 3 + 60, 2, 131 + 60, 2, 1], dtype=np.uint16)
    up = poly.transpose(tokens, 4)
    assert up is not None
    assert up.tolist() == [0, 67, 2, 195, 2, 1]
    assert poly.transpose(tokens, 68) is None
    assert poly.pitch_range(tokens) == (60, 60)
