"""The chip-voice codec: round trips, normalisation, the grammar and its sampling masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipline.chip import CHIP_VOICES, VOICES, ChipNote, ChipScore
from chipline.dataset.chipvoice import transpose
from chipline.encoding import chipvoice as cv
from chipline.encoding.chipvoice_grammar import ChipVoiceGrammar, check
from chipline.errors import EncodingError
from chipline.keys import Key
from chipline.score import Tempo, TimeSignature
from conftest import shared_data


@st.composite
def chip_scores(draw) -> ChipScore:
    chip = draw(st.sampled_from(["nes", "vrc6"]))
    tpb = draw(st.sampled_from([4, 96, 480]))
    meter = draw(st.sampled_from(cv.METERS))
    bar_ticks = tpb * 4 * meter[0] // meter[1]
    num_bars = draw(st.integers(1, 6))
    notes = []
    for voice in CHIP_VOICES[chip]:
        tick = 0
        for gap, length in draw(st.lists(st.tuples(st.integers(0, tpb), st.integers(1, 3 * tpb)))):
            tick += gap
            pitch = draw(st.integers(0, 15) if voice == "Noise" else st.integers(0, 127))
            pitches = (pitch,) if draw(st.booleans()) else (pitch, pitch + 4, pitch + 7)
            notes.append(
                ChipNote(
                    voice,
                    tick,
                    tick + length,
                    pitches,
                    draw(st.integers(0, 15)),
                    draw(st.one_of(st.none(), st.integers(0, 7))),
                )  # fmt: skip
            )
            tick += length
    return ChipScore(
        chip=chip,
        ticks_per_beat=tpb,
        notes=tuple(notes),
        tempos=(Tempo(0, draw(st.integers(200_000, 1_500_000))),),
        time_signatures=(TimeSignature(0, *meter),),
        end_tick=num_bars * bar_ticks - draw(st.integers(0, bar_ticks - 1)),
        loop_start_tick=draw(st.integers(0, num_bars)) * bar_ticks,
    )


def sample(rng: np.random.Generator, max_bars: int = 6) -> np.ndarray:
    """A sequence drawn under the grammar's masks from random logits (a stand-in for a model)."""
    grammar = ChipVoiceGrammar()
    tokens = []
    while not grammar.ended:
        mask = grammar.mask()
        if len(tokens) == 5:
            mask[cv.BARS_BASE + max_bars :] = False
        logits = rng.normal(size=cv.VOCAB_SIZE)
        logits[cv.BAR] += 1.5  # keep bars moving so sequences stay short
        token = int(np.argmax(np.where(mask, logits, -np.inf)))
        grammar.advance(token)
        tokens.append(token)
    return np.array(tokens)


@given(chip_scores(), st.booleans())
def test_decode_of_encode_is_the_normalised_score(score, loop):
    tokens = cv.encode(score, loop=loop)
    assert tokens.dtype == np.uint16
    assert int(tokens.max()) < cv.VOCAB_SIZE
    assert cv.decode(tokens) == cv.normalize(score, loop)


@given(chip_scores(), st.booleans())
def test_normalize_is_idempotent(score, loop):
    once = cv.normalize(score, loop)
    assert cv.normalize(once, loop) == once


@pytest.mark.parametrize("seed", range(40))
def test_encode_of_decode_gives_back_a_grammatical_sequence(seed):
    tokens = sample(np.random.default_rng(seed))
    header = cv.read_header(tokens)
    again = cv.encode(
        cv.decode(tokens),
        loop=header.loop,
        key=header.key,
        density=header.density,
        voices=header.voices,
    )
    assert again.tolist() == tokens.tolist()


def test_a_thousand_seeded_samples_decode_to_playable_scores():
    for seed in range(1000):
        tokens = sample(np.random.default_rng(seed), max_bars=2)
        score = cv.decode(tokens)
        header = cv.read_header(tokens)
        assert score.end_tick == header.num_bars * cv.steps_per_bar(header.meter)
        for voice in CHIP_VOICES[score.chip]:
            own = sorted(
                (n.start_tick, n.end_tick, n.pitches[0]) for n in score.notes if n.voice == voice
            )
            assert all(a[1] <= b[0] for a, b in zip(own, own[1:], strict=False)), "overlap"
            low, high = VOICES[voice].low, VOICES[voice].high
            assert all(low <= p <= high for _, _, p in own)
            assert all(0 <= s < e <= score.end_tick for s, e, _ in own)
        assert {n.voice for n in score.notes} <= set(CHIP_VOICES[score.chip])


def test_header_carries_the_controls():
    score = ChipScore(
        "nes", 4, (ChipNote("Pulse 1", 0, 4, (69,)), ChipNote("Triangle", 0, 16, (45,))),
        (Tempo(0, 428_571),), (TimeSignature(0, 4, 4),), end_tick=32, loop_start_tick=16,
    )  # fmt: skip
    tokens = cv.encode(score, key=Key(9, minor=True))
    header = cv.read_header(tokens)
    assert (header.chip, header.key, header.qpm, header.num_bars, header.loop, header.voices) == (
        "nes", Key(9, True), 140, 2, True, 2,
    )  # fmt: skip
    assert cv.LOOP_START in tokens.tolist()
    assert cv.decode(tokens).loop_start_tick == 16


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t[:-1], "without END"),
        (lambda t: [*t[:9], cv.END], r"token 9 \(END\) breaks"),  # no bars at all
        (lambda t: [*t, cv.END], "after END"),
    ],
)
def test_check_names_the_broken_token(mutate, reason):
    tokens = sample(np.random.default_rng(1)).tolist()
    with pytest.raises(EncodingError, match=reason):
        check(mutate(tokens))


def test_two_notes_on_one_voice_at_once_are_refused():
    tokens = cv.encode(
        ChipScore(
            "nes",
            4,
            (ChipNote("Pulse 1", 0, 8, (60,)),),
            (Tempo(0, 500_000),),
            (TimeSignature(0, 4, 4),),
            end_tick=16,
        )  # fmt: skip
    ).tolist()
    # add a second Pulse 1 note at step 4 while the first (8 steps) still sounds
    body = [cv.POS_BASE + 4, cv.VOICE_BASE, cv.PITCH_BASE + 64, cv.DUR_BASE]
    with pytest.raises(EncodingError, match="breaks the chip-voice grammar"):
        check(tokens[:-1] + body + [cv.END])


def test_more_voices_than_the_header_says_are_refused():
    two = (ChipNote("Pulse 1", 0, 4, (69,)), ChipNote("Triangle", 0, 16, (45,)))
    score = ChipScore("nes", 4, two, (Tempo(0, 500_000),), (TimeSignature(0, 4, 4),), end_tick=16)
    tokens = cv.encode(score, voices=3).tolist()
    assert cv.read_header(np.array(tokens)).voices == 3
    assert cv.decode(tokens) == cv.normalize(score)
    # a third voice fits the header's three; a fourth breaks it
    third = [cv.POS_BASE + 8, cv.VOICE_BASE + 1, cv.PITCH_BASE + 64, cv.DUR_BASE]
    check(tokens[:-1] + third + [cv.END])
    fourth = [cv.VOICE_BASE + 3, cv.NOISE_BASE, cv.DUR_BASE]
    with pytest.raises(EncodingError, match=r"\(VOICE_Noise\) breaks"):
        check(tokens[:-1] + third + fourth + [cv.END])
    with pytest.raises(EncodingError, match="2 voices play; cannot label the piece 1"):
        cv.encode(score, voices=1)
    with pytest.raises(EncodingError, match=r"\(VOICES_5\) breaks"):  # the NES has four voices
        check([*tokens[:8], cv.VOICES_BASE + 4, *tokens[9:]])


@pytest.mark.parametrize(("meter", "written"), [((2, 2), (4, 4)), ((4, 8), (2, 4))])
def test_a_meter_with_a_codec_twin_is_written_as_the_twin(meter, written):
    note = ChipNote("Pulse 1", 0, 4, (60,))
    score = ChipScore("nes", 4, (note,), (Tempo(0, 500_000),), (TimeSignature(0, *meter),),
                      end_tick=2 * cv.steps_per_bar(written))  # fmt: skip
    decoded = cv.decode(cv.encode(score))
    assert decoded == cv.normalize(score)
    sig = decoded.time_signatures[0]
    assert ((sig.numerator, sig.denominator), decoded.end_tick) == (written, score.end_tick)


def test_unsupported_meter_and_too_many_bars_are_clear_errors():
    base = ChipScore("nes", 4, (), (Tempo(0, 500_000),), (TimeSignature(0, 5, 4),), end_tick=20)
    with pytest.raises(EncodingError, match="meter 5/4 is not supported"):
        cv.encode(base)
    long = ChipScore(
        "nes", 4, (), (Tempo(0, 500_000),), (TimeSignature(0, 4, 4),), end_tick=16 * 65
    )
    with pytest.raises(EncodingError, match="65 bars"):
        cv.encode(long)


@pytest.mark.parametrize("name", ["bach/bach__bwv1.6__0.mid", "freedoom/freedm__D_ADRIAN.mid"])
def test_real_arrangements_round_trip(name):
    from chipline.arrange import ArrangeConfig, arrange
    from chipline.score import read_midi

    song = read_midi(shared_data("midi", name))
    for chip in ("nes", "vrc6"):
        score = arrange(song, ArrangeConfig(chip=chip))
        bar = score.ticks_per_beat * 4
        window = ChipScore(
            score.chip, score.ticks_per_beat,
            tuple(n for n in score.notes if n.start_tick < 16 * bar), score.tempos,
            score.time_signatures[:1], end_tick=16 * bar,
        )  # fmt: skip
        tokens = cv.encode(window)
        assert cv.decode(tokens) == cv.normalize(window)
        assert len(cv.decode(tokens).notes) > 16


def test_a_tune_and_its_transpositions_read_the_same_after_the_key():
    notes = (ChipNote("Pulse 1", 0, 4, (62,)), ChipNote("Pulse 1", 4, 8, (66,)),
             ChipNote("Triangle", 0, 16, (50,)), ChipNote("Noise", 8, 9, (3,)))  # fmt: skip
    score = ChipScore("nes", 4, notes, (Tempo(0, 500_000),), (TimeSignature(0, 4, 4),), end_tick=16)
    d_major = cv.encode(score, key=Key(2))
    for semitones in (-5, 1, 3, 4):  # D to A, D#, F, F#: 2 - 5 = -3 .. 6 semitones from C
        moved = cv.encode(transpose(score, semitones), key=Key((2 + semitones) % 12))
        assert moved[3:].tolist() == d_major[3:].tolist()  # all but START, chip and key
        assert cv.decode(moved) == cv.normalize(transpose(score, semitones))
    wrapped = cv.encode(transpose(score, 5), key=Key(7))  # G is written 5 below C, not 7 above
    assert wrapped[3:].tolist() != d_major[3:].tolist()
    assert cv.decode(wrapped) == cv.normalize(transpose(score, 5))
    played = cv.decode(d_major).notes
    assert [n.pitches[0] for n in played if n.voice == "Pulse 1"] == [62, 66]
