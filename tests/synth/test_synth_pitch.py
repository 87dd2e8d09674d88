"""Held-tone pitch equals the 2A03 period formula (chip.md §8.2 item 2: within ±0.5 cent)."""

from __future__ import annotations

import numpy as np
import pytest
from synthkit import f0_hz, held_score, steady

from chipline.synth import SynthConfig, tables
from chipline.synth.engine import mix_unfiltered

CENTS_TOLERANCE = 0.5
SAMPLE_RATE = 44100


def _cents_off(voice: str, midi: int, region: str = "ntsc", chip: str = "nes") -> float:
    cpu_hz = tables.REGIONS[region].cpu_hz
    if voice == "Triangle":
        expected = cpu_hz / (32 * (int(tables.triangle_period(midi, region)) + 1))
    elif voice == "VRC6 Saw":
        expected = cpu_hz / (14 * (int(tables.saw_period(midi, region)) + 1))
    elif voice.startswith("VRC6"):
        expected = cpu_hz / (16 * (int(tables.vrc6_pulse_period(midi, region)) + 1))
    else:
        expected = cpu_hz / (16 * (int(tables.pulse_period(midi, region)) + 1))
    config = SynthConfig(SAMPLE_RATE, region)  # type: ignore[arg-type]
    x = steady(mix_unfiltered(held_score(voice, midi, chip=chip), config), SAMPLE_RATE)
    return 1200 * np.log2(f0_hz(x, SAMPLE_RATE, expected) / expected)


@pytest.mark.parametrize(("voice", "midi"), [("Pulse 1", 33), ("Pulse 2", 64), ("Pulse 1", 96)])
def test_pulse_pitch(voice, midi):
    assert abs(_cents_off(voice, midi)) < CENTS_TOLERANCE


@pytest.mark.parametrize("midi", [21, 52, 84])
def test_triangle_pitch(midi):
    assert abs(_cents_off("Triangle", midi)) < CENTS_TOLERANCE


def test_pal_pitch_uses_the_pal_clock():
    assert abs(_cents_off("Pulse 1", 69, "pal")) < CENTS_TOLERANCE


@pytest.mark.parametrize(("voice", "midi"), [("VRC6 Pulse 1", 28), ("VRC6 Saw", 45)])
def test_vrc6_pitch(voice, midi):
    assert abs(_cents_off(voice, midi, chip="vrc6")) < CENTS_TOLERANCE


@pytest.mark.slow
def test_pitch_sweep_pulse_33_96_and_triangle_21_84():
    worst = max(abs(_cents_off("Pulse 1", m)) for m in range(33, 97))
    worst_tri = max(abs(_cents_off("Triangle", m)) for m in range(21, 85))
    assert worst < CENTS_TOLERANCE
    assert worst_tri < CENTS_TOLERANCE
