"""Chip-voice sampling: every seeded output is playable and follows the controls."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from chipvoice_models import random_weights, tiny_model

from chipline.chip import CHIP_VOICES, VOICES, ChipScore
from chipline.encoding import chipvoice as cv
from chipline.errors import ConfigError
from chipline.generate.chipvoice import (
    Controls,
    generate,
    header_tokens,
    model_controls,
    random_controls,
)
from chipline.keys import Key
from chipline.model.checkpoint import model_config
from chipline.model.infer import NumpyLSTM

NUM_SEEDS, OUTPUTS_PER_SEED = 50, 20  # 1,000 generations


def violations(score: ChipScore, controls: Controls, voices: int) -> list[str]:
    """Every way `score` breaks the chip, the controls or the header's voice count `voices`,
    checked from the notes alone."""
    found = []
    if len({n.voice for n in score.notes}) > voices:
        found.append(f"more than {voices} voices play")
    if controls.voices is not None and voices != controls.voices:
        found.append(f"the header says {voices} voices, the controls {controls.voices}")
    spb = cv.steps_per_bar(controls.meter)
    if score.end_tick != controls.num_bars * spb:
        found.append(f"end {score.end_tick} is not {controls.num_bars} bars")
    if score.loop_start_tick != controls.intro_bars * spb:
        found.append(f"loop start {score.loop_start_tick}")
    for voice in CHIP_VOICES[score.chip]:
        own = sorted((n for n in score.notes if n.voice == voice), key=lambda n: n.start_tick)
        for a, b in zip(own, own[1:], strict=False):
            if b.start_tick < a.end_tick:
                found.append(f"{voice}: overlap at {b.start_tick}")
        for n in own:
            low, high = VOICES[voice].low, VOICES[voice].high
            if not low <= n.pitches[0] <= high or len(n.pitches) != 1:
                found.append(f"{voice}: pitch {n.pitches} out of {low}..{high}")
            if not 0 <= n.start_tick < n.end_tick <= score.end_tick:
                found.append(f"{voice}: note {n.start_tick}..{n.end_tick} outside the piece")
    if {n.voice for n in score.notes} - set(CHIP_VOICES[controls.chip]):
        found.append("a voice the chip does not have")
    if controls.stinger:  # Pulse 1 and the triangle, both where the voice count leaves room
        enders = [v for v in ("Pulse 1", "Triangle") if any(n.voice == v for n in score.notes)]
        room = voices - len({n.voice for n in score.notes})
        if not enders or room > 0 and len(enders) < 2:
            found.append(f"a stinger of {voices} voices ends in {enders}")
        for voice in enders:
            last = max((n for n in score.notes if n.voice == voice), key=lambda n: n.start_tick)
            if last.pitches[0] % 12 != controls.key.tonic:
                found.append(f"stinger's {voice} ends on {last.pitches[0]}, not the tonic")
    return found


def test_one_thousand_seeded_generations_are_playable():
    model = tiny_model()
    count, stingers, intros = 0, 0, 0
    for seed in range(NUM_SEEDS):
        rng = np.random.default_rng(seed)
        controls = random_controls(rng)
        shared = int(rng.integers(0, 2)) * max(1, controls.num_bars // 2)
        for tokens in generate(model, controls, OUTPUTS_PER_SEED, rng, num_shared_bars=shared):
            header = cv.read_header(tokens.astype(np.int64))
            assert (header.key, header.num_bars, header.chip) == (
                controls.key, controls.num_bars, controls.chip)  # fmt: skip
            assert abs(header.qpm - controls.qpm) <= 2
            assert violations(cv.decode(tokens), controls, header.voices) == []
            count += 1
        stingers += controls.stinger
        intros += controls.intro_bars > 0
    assert count == 1000
    assert stingers
    assert intros


def test_same_seed_same_music_and_variations_share_their_opening():
    model = tiny_model()
    controls = Controls(num_bars=4, key=Key(9, True), num_candidates=2)
    first = generate(model, controls, 3, np.random.default_rng(7), num_shared_bars=2)
    again = generate(model, controls, 3, np.random.default_rng(7), num_shared_bars=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    openings = [cv.decode(t) for t in first]
    bars_two = [tuple(n for n in s.notes if n.start_tick < 32) for s in openings]
    assert bars_two[0] == bars_two[1] == bars_two[2]
    assert len({t.tobytes() for t in first}) == 3


def test_in_key_pitches_stay_in_the_scale():
    model = tiny_model(seed=3)
    controls = Controls(num_bars=4, key=Key(2, False), num_candidates=1)
    notes = [n for t in generate(model, controls, 4, np.random.default_rng(0))
             for n in cv.decode(t).notes if n.voice != "Noise"]  # fmt: skip
    assert notes
    assert {(n.pitches[0] - 2) % 12 for n in notes} <= {0, 2, 4, 5, 7, 9, 11}


def test_loop_candidates_pick_the_best_seam():
    from chipline.generate.chipvoice import _Rows, seam_logp

    model = tiny_model(seed=5)
    one = Controls(num_bars=2, num_candidates=1, seam_weight=0.0)
    many = Controls(num_bars=2, num_candidates=16, seam_weight=0.0)
    picks = {}
    for name, controls in (("one", one), ("many", many)):
        outputs = generate(model, controls, 6, np.random.default_rng(1))
        scores = []
        for tokens in outputs:
            rows = _Rows(model, list(tokens[:-1]), controls)
            scores.append(seam_logp(rows, 0)[0])
        picks[name] = np.mean(scores)
    assert picks["many"] > picks["one"]


@pytest.mark.parametrize(
    "changes",
    [{"num_bars": 0}, {"stinger": True, "num_bars": 8, "loop": False},
     {"stinger": True, "loop": True, "num_bars": 2}, {"intro_bars": 4, "num_bars": 4},
     {"voices": 0}, {"voices": 5}, {"chip": "vrc6", "voices": 8}, {"pitch_temperature": 0},
     {"temperature": -1}],
)  # fmt: skip
def test_impossible_controls_are_refused(changes):
    with pytest.raises(ConfigError):
        Controls(**changes)


def test_the_key_control_gives_pieces_in_that_key():
    from chipline.keys import estimate_key

    model = tiny_model(seed=11)  # random weights: their own pitch preferences pull elsewhere,
    # so the bias is set well above make's default (a trained model hears the key at 0.5)
    keys = [Key(9, True), Key(7, False), Key(1, True), Key(10, False)]

    def hits(**free: object) -> int:
        count = 0
        for key in keys:
            controls = Controls(num_bars=8, key=key, key_bias=2.0, num_candidates=1)
            controls = replace(controls, **free)
            for tokens in generate(model, controls, 4, np.random.default_rng(0)):
                notes = [n for n in cv.decode(tokens).notes if n.voice != "Noise"]
                pitches = [n.pitches[0] for n in notes]
                count += estimate_key(pitches, [n.end_tick - n.start_tick for n in notes]) == key
        return count

    controlled, free = hits(), hits(in_key=False, key_bias=0.0)
    assert controlled >= 10, (controlled, free)  # of 16
    assert controlled >= free + 6, (controlled, free)


def test_density_sets_a_floor_of_notes_per_bar():
    model = tiny_model(seed=2)

    def per_bar(density: int) -> list[int]:
        controls = Controls(num_bars=4, density=density, voices=4, num_candidates=1)
        counts = []
        for tokens in generate(model, controls, 4, np.random.default_rng(0)):
            score = cv.decode(tokens)
            starts = [n.start_tick // 16 for n in score.notes if n.voice != "Noise"]
            counts += [starts.count(bar) for bar in range(4)]
        return counts

    sparse, busy = np.mean(per_bar(0)), np.mean(per_bar(2))
    assert busy > sparse + 0.5, (sparse, busy)  # a floor of 4 where held notes leave room


def test_seam_weight_favours_loops_that_sound_the_same_across_the_seam():
    from chipline.chip import ChipNote
    from chipline.generate.chipvoice import seam_mismatch

    def score(*notes: ChipNote) -> ChipScore:
        return ChipScore("nes", 4, notes, (), (), end_tick=32)

    held = score(ChipNote("Pulse 1", 0, 8, (60,)), ChipNote("Pulse 1", 24, 32, (60,)))
    assert seam_mismatch(held) == 0.0
    fifth = score(ChipNote("Pulse 1", 0, 8, (60,)), ChipNote("Pulse 1", 24, 32, (67,)))
    assert seam_mismatch(fifth) == pytest.approx(7 / 12)
    assert seam_mismatch(score(ChipNote("Triangle", 0, 8, (45,)))) == 1.0
    model = tiny_model(seed=5)
    chosen = {
        weight: np.mean(
            [
                seam_mismatch(cv.decode(t))
                for t in generate(
                    model,
                    Controls(num_bars=2, num_candidates=12, seam_weight=weight),
                    6,
                    np.random.default_rng(3),
                )
            ]
        )  # fmt: skip
        for weight in (0.0, 50.0)
    }
    assert chosen[50.0] < chosen[0.0]


def test_model_controls_come_from_the_model_with_bars_enough():
    rng = np.random.default_rng(0)
    drawn = [model_controls(tiny_model(), rng, num_steps=40) for _ in range(30)]
    assert len({c.meter for c in drawn}) > 1  # a random model draws several meters
    for c in drawn:
        bar = cv.steps_per_bar(c.meter)
        assert c.num_bars * bar >= 40
        assert not c.in_key
        assert c.key_bias == 0  # the notes are the model's own
        assert c.num_candidates == 1
    weights = random_weights()
    weights["head.bias"][cv.METER_BASE + cv.METERS.index((6, 8))] = 50.0  # it always says 6/8
    sure = NumpyLSTM(model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME), weights)
    assert {model_controls(sure, rng, num_steps=40).meter for _ in range(5)} == {(6, 8)}
    assert len({c.voices for c in drawn}) > 1  # and so is the voice count
    assert len({c.num_bars for c in drawn}) > 1  # the length is drawn too, never too short
    weights["head.bias"][cv.BARS_BASE + 11] = 50.0  # it always says 12 bars
    sure = NumpyLSTM(model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME), weights)
    assert {model_controls(sure, rng, num_steps=40).num_bars for _ in range(5)} == {12}
    assert min(model_controls(sure, rng, num_steps=13 * 12).num_bars for _ in range(5)) >= 13


def test_model_controls_draw_the_key_from_the_key_prior():
    weights = random_weights()
    weights["head.bias"][cv.KEY_BASE] = 50.0  # the network itself always says C major
    config = model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME)
    rng = np.random.default_rng(0)
    own = {model_controls(NumpyLSTM(config, weights), rng, num_steps=16).key for _ in range(5)}
    assert own == {Key(0)}
    prior = [0.0] * 24
    prior[7], prior[9 + 12] = 0.75, 0.25  # G major, A minor
    model = NumpyLSTM(model_config([16], cv.VOCAB_SIZE, 0.0, codec=cv.CODEC_NAME,
                                   key_prior=prior), weights)  # fmt: skip
    keys = [model_controls(model, rng, num_steps=16).key for _ in range(200)]
    assert set(keys) == {Key(7), Key(9, minor=True)}
    assert 0.6 < keys.count(Key(7)) / len(keys) < 0.9


def test_the_pitch_temperature_sharpens_the_pitches_and_nothing_else():
    from chipline.generate.chipvoice import _Rows

    model = tiny_model(seed=2)
    controls = Controls(num_bars=2, in_key=False, key_bias=0.0, temperature=1.0)
    rows = _Rows(model, header_tokens(controls), controls)
    rng = np.random.default_rng(0)
    rows.run(lambda g: g.note_stage == "pitch", rng)  # one row, about to write a pitch
    at_pitch = rows.select([0] * 400)
    rows.feed(np.array([at_pitch._draw([0], rng)[0]]), [0])  # past the pitch: its length next
    after = rows.select([0] * 400)

    def picks(batch: _Rows, pitch_temperature: float | None) -> list[int]:
        batch.controls = replace(controls, pitch_temperature=pitch_temperature)
        return batch._draw(list(range(400)), np.random.default_rng(1)).tolist()

    assert len(set(picks(at_pitch, None))) > 3  # random weights spread over many pitches
    assert len(set(picks(at_pitch, 0.01))) == 1  # only the likeliest pitch
    assert len(set(picks(after, None))) > 3
    assert picks(after, 0.01) == picks(after, None)  # other tokens: the temperature's


@pytest.mark.parametrize("chip", ["nes", "vrc6"])
def test_the_voice_count_caps_the_voices_and_stingers_still_end_on_the_tonic(chip):
    model = tiny_model(seed=3)
    rng = np.random.default_rng(0)
    most = {}
    for voices in range(1, 5):
        for stinger in (False, True):
            controls = Controls(chip=chip, key=Key(2), num_bars=2, voices=voices, stinger=stinger,
                                loop=not stinger, num_candidates=1)  # fmt: skip
            for tokens in generate(model, controls, 10, rng):
                score = cv.decode(tokens)
                assert violations(score, controls, cv.read_header(tokens).voices) == []
                playing = len({n.voice for n in score.notes})
                most[voices] = max(most.get(voices, 0), playing)
    assert most == {1: 1, 2: 2, 3: 3, 4: 4}  # the cap binds, and is reached


def test_without_a_voice_count_the_model_draws_one():
    controls = Controls(num_bars=2, num_candidates=1)
    outputs = generate(tiny_model(seed=3), controls, 20, np.random.default_rng(0))
    counts = {cv.read_header(t).voices for t in outputs}
    assert len(counts) > 1
    for tokens in outputs:
        assert violations(cv.decode(tokens), controls, cv.read_header(tokens).voices) == []
