"""Mixer levels (chip.md §8.2 item 6): the NESdev formulas, checked on rendered plateaus."""

from __future__ import annotations

import numpy as np
from synthkit import score_of, sec_to_tick

from chipline.chip import ChipNote, Instrument
from chipline.synth import mix
from chipline.synth.engine import mix_unfiltered, stems_unfiltered

EXACT = 1e-9


def _plateaus(x: np.ndarray, run: int = 20) -> set[float]:
    """Values held unchanged for at least `run` samples (band-limited edges excluded)."""
    values = set()
    edges = np.flatnonzero(np.abs(np.diff(x)) > EXACT)
    bounds = np.concatenate([[0], edges + 1, [len(x)]])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a >= run:
            values.add(round(float(x[(a + b) // 2]), 9))
    return values


def test_tables_match_the_nesdev_lookup_approximations():
    n = np.arange(1, 31)
    np.testing.assert_allclose(mix.PULSE_TABLE[1:], 95.52 / (8128.0 / n + 100), rtol=0.01)
    tri, noise = np.meshgrid(np.arange(16), np.arange(16))
    index = 3 * tri + 2 * noise
    ok = index > 0
    approx = 163.67 / (24329.0 / index[ok] + 100)
    np.testing.assert_allclose(mix.tnd_out(tri, noise)[ok], approx, rtol=0.04)
    assert mix.tnd_out(0, 0, 0) == 0.0
    assert float(mix.tnd_out(0, 0, 127)) == 159.79 / (1 / (127 / 22638) + 100)


def test_two_pulses_mix_through_the_shared_nonlinear_curve():
    """Low notes at different periods: every combination of the two pulses' levels occurs."""
    notes = [
        ChipNote("Pulse 1", 0, sec_to_tick(0.3), (33,), volume=15),
        ChipNote("Pulse 2", 0, sec_to_tick(0.3), (40,), volume=9),
    ]
    flat = {"Pulse 1": Instrument(2, (15,)), "Pulse 2": Instrument(2, (15,))}
    score = score_of(notes, instruments=flat)
    levels = _plateaus(mix_unfiltered(score, num_samples=12000))
    expected = {round(95.88 / (8128 / n + 100), 9) for n in (15, 9, 24)} | {0.0}
    assert levels == expected
    stems = stems_unfiltered(score, num_samples=12000)
    linear_sum = round(max(_plateaus(stems["Pulse 1"])) + max(_plateaus(stems["Pulse 2"])), 9)
    assert linear_sum > max(levels) * 1.03  # the curve compresses the sum


def test_triangle_levels_follow_the_tnd_formula():
    score = score_of([ChipNote("Triangle", 0, sec_to_tick(0.2), (21,))])
    levels = _plateaus(mix_unfiltered(score, num_samples=8000))
    expected = {round(159.79 / (1 / (t / 8227) + 100), 9) for t in range(1, 16)} | {0.0}
    assert levels == expected


def test_vrc6_levels_are_linear_steps():
    notes = [ChipNote("VRC6 Pulse 1", 0, sec_to_tick(0.2), (28,), volume=15)]
    score = score_of(notes, chip="vrc6", instruments={"VRC6 Pulse 1": Instrument(7, (15,))})
    levels = _plateaus(mix_unfiltered(score, num_samples=8000))
    assert levels == {0.0, round(15 * mix.VRC6_STEP, 9)}
    assert float(mix.pulse_out(15)) == 15 * mix.VRC6_STEP
