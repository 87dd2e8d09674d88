"""Aliasing of held tones in 20 Hz–12 kHz (chip.md §8.2 item 3), with a naive renderer kept as a
sentinel that must fail the same metric."""

from __future__ import annotations

import numpy as np
import pytest
from synthkit import alias_db, held_score, steady

from chipline.synth import SynthConfig, mix, tables
from chipline.synth.engine import mix_unfiltered

SAMPLE_RATE = 44100
PULSE_LIMIT_DB = -65.0
TRIANGLE_LIMIT_DB = -80.0
CPU_HZ = tables.REGIONS["ntsc"].cpu_hz


def _pulse_hz(midi):
    return CPU_HZ / (16 * (int(tables.pulse_period(midi)) + 1))


def _triangle_hz(midi):
    return CPU_HZ / (32 * (int(tables.triangle_period(midi)) + 1))


def _alias(voice, midi, duty=0):
    x = steady(mix_unfiltered(held_score(voice, midi, duty=duty)), SAMPLE_RATE)
    f0 = _triangle_hz(midi) if voice == "Triangle" else _pulse_hz(midi)
    return alias_db(x, SAMPLE_RATE, f0)


def naive_pulse(midi: int, duty: int, num_samples: int) -> np.ndarray:
    """Point sampling: each sample takes the duty step the ideal sequencer is in at that instant."""
    step_cycles = 2 * (int(tables.pulse_period(midi)) + 1)
    cycles = np.arange(num_samples) * (CPU_HZ / SAMPLE_RATE)
    position = (cycles // step_cycles).astype(np.int64) + 1
    level = np.array(tables.PULSE_DUTY[duty])[position % 8] * 15
    return mix.PULSE_TABLE[level]


def naive_triangle(midi: int, num_samples: int) -> np.ndarray:
    step_cycles = int(tables.triangle_period(midi)) + 1
    cycles = np.arange(num_samples) * (CPU_HZ / SAMPLE_RATE)
    position = (cycles // step_cycles).astype(np.int64) + tables.TRIANGLE_START_STEP + 1
    return mix.TRIANGLE_TABLE[np.array(tables.TRIANGLE_STEPS)[position % 32]]


@pytest.mark.parametrize(("midi", "duty"), [(108, 0), (100, 1), (96, 0), (69, 2), (81, 3)])
def test_pulse_alias_below_limit(midi, duty):
    assert _alias("Pulse 1", midi, duty) <= PULSE_LIMIT_DB


@pytest.mark.parametrize("midi", [45, 69, 93])
def test_triangle_alias_below_limit(midi):
    assert _alias("Triangle", midi) <= TRIANGLE_LIMIT_DB


@pytest.mark.parametrize(("midi", "duty"), [(108, 0), (69, 2)])
def test_naive_pulse_sentinel_fails_the_metric(midi, duty):
    x = steady(naive_pulse(midi, duty, int(1.2 * SAMPLE_RATE)), SAMPLE_RATE)
    assert alias_db(x, SAMPLE_RATE, _pulse_hz(midi)) > -40.0


@pytest.mark.parametrize("midi", [45, 93])
def test_naive_triangle_sentinel_fails_the_metric(midi):
    x = steady(naive_triangle(midi, int(1.2 * SAMPLE_RATE)), SAMPLE_RATE)
    assert alias_db(x, SAMPLE_RATE, _triangle_hz(midi)) > -40.0


@pytest.mark.slow
@pytest.mark.parametrize("duty", [0, 1, 2, 3])
def test_pulse_alias_sweep_to_c8(duty):
    worst = max(_alias("Pulse 1", m, duty) for m in range(33, 109, 3))
    assert worst <= PULSE_LIMIT_DB


@pytest.mark.slow
def test_triangle_alias_sweep_to_a6():
    assert max(_alias("Triangle", m) for m in range(21, 94, 3)) <= TRIANGLE_LIMIT_DB


def test_clean_render_is_band_limited_at_48k():
    x = mix_unfiltered(held_score("Pulse 1", 100, duty=1), SynthConfig(sample_rate=48000))
    assert alias_db(steady(x, 48000), 48000, _pulse_hz(100)) <= PULSE_LIMIT_DB
