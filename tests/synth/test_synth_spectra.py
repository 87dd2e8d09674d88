"""Harmonic structure of the waveforms (chip.md §8.2 item 4) for the 2A03 and VRC6 voices."""

from __future__ import annotations

import numpy as np
import pytest
from synthkit import held_score, power_spectrum, steady

from chipline.synth import tables
from chipline.synth.engine import mix_unfiltered

SAMPLE_RATE = 44100
MATCH_DB = 0.2
MISSING_DB = -60.0
CPU_HZ = tables.REGIONS["ntsc"].cpu_hz


def _harmonics_db(voice, midi, duty, ks, chip="nes", period=tables.pulse_period, divisor=16):
    """Harmonic energy (±5 bins, so scalloping cannot bias it), dB relative to harmonic 1."""
    x = steady(mix_unfiltered(held_score(voice, midi, duty=duty, chip=chip)), SAMPLE_RATE)
    f0 = CPU_HZ / (divisor * (int(period(midi)) + 1))
    power = power_spectrum(x)
    bin_hz = SAMPLE_RATE / len(x)

    def energy(f):
        k = round(f / bin_hz)
        return power[k - 5 : k + 6].sum()

    ref = energy(f0)
    return np.array([10 * np.log10(energy(k * f0) / ref) for k in ks])


def _expected_db(duty_fraction, ks):
    mag = np.abs(np.sin(np.pi * np.asarray(ks) * duty_fraction)) / np.asarray(ks)
    return 20 * np.log10(mag / abs(np.sin(np.pi * duty_fraction)))


@pytest.mark.parametrize(
    ("duty", "fraction", "gap"), [(0, 1 / 8, 8), (1, 1 / 4, 4), (2, 1 / 2, 2), (3, 3 / 4, 4)]
)
def test_pulse_duty_spectrum(duty, fraction, gap):
    ks = np.arange(1, 21)  # up to 4.4 kHz at A3
    got = _harmonics_db("Pulse 1", 57, duty, ks)
    present = ks % gap != 0
    np.testing.assert_allclose(got[present], _expected_db(fraction, ks[present]), atol=MATCH_DB)
    assert got[~present].max() <= MISSING_DB


@pytest.mark.parametrize("duty", [0, 1, 3, 7])
def test_vrc6_pulse_has_eight_duty_levels(duty):
    fraction = (duty + 1) / 16
    ks = np.arange(1, 17)
    got = _harmonics_db("VRC6 Pulse 1", 45, duty, ks, chip="vrc6", period=tables.vrc6_pulse_period)
    gap = 16 // np.gcd(duty + 1, 16)
    present = ks % gap != 0
    np.testing.assert_allclose(got[present], _expected_db(fraction, ks[present]), atol=MATCH_DB)
    if (~present).any():
        assert got[~present].max() <= MISSING_DB


def test_vrc6_saw_is_a_seven_step_ramp():
    """Levels floor(i · 42 / 8), i = 0..6, each held 1/7 period (NESdev "VRC6 audio")."""
    levels = np.array([(i * 42) >> 3 for i in range(7)], dtype=float)
    ks = np.arange(1, 13)
    expected = _staircase_db(levels, ks)
    got = _harmonics_db("VRC6 Saw", 45, 0, ks, chip="vrc6", period=tables.saw_period, divisor=14)
    present = ks % 7 != 0
    np.testing.assert_allclose(got[present], expected[present], atol=MATCH_DB)
    assert got[~present].max() <= MISSING_DB


def _staircase_db(levels, ks):
    """Harmonics (dB re harmonic 1) of a periodic staircase holding each of `levels` equally."""
    n = len(levels)
    i = np.arange(n)
    coef = np.array([abs(np.sum(levels * np.exp(-2j * np.pi * k * i / n))) for k in ks])
    mag = coef * np.abs(np.sinc(np.asarray(ks) / n))
    return 20 * np.log10(mag / mag[0])


def test_triangle_spectrum_is_the_mixed_32_step_staircase():
    """15..0, 0..15 through the NESdev tnd curve; the curve's compression adds even harmonics."""
    steps = np.array(list(range(15, -1, -1)) + list(range(16)), dtype=float)
    mixed = np.where(steps > 0, 159.79 / (8227.0 / np.maximum(steps, 1) + 100.0), 0.0)
    ks = np.arange(1, 12)
    got = _harmonics_db("Triangle", 45, 0, ks, period=tables.triangle_period, divisor=32)
    np.testing.assert_allclose(got, _staircase_db(mixed, ks), atol=MATCH_DB)
    linear = _staircase_db(steps, ks)
    assert linear[1::2].max() < -200  # a linear mixer would leave no even harmonic at all
    assert got[1] > -40  # the real curve does
