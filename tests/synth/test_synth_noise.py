"""The noise voice (chip.md §8.2 item 5): exact area sampling against a cycle-by-cycle model,
the level bound at all 16 periods, and the short mode's tonal lines."""

from __future__ import annotations

import numpy as np
import pytest
from synthkit import held_score, power_spectrum, score_of, sec_to_tick, steady

from chipline.chip import ChipNote, Instrument
from chipline.synth import SynthConfig, driver, mix, tables
from chipline.synth.engine import mix_unfiltered

SAMPLE_RATE = 44100
CPU_HZ = tables.REGIONS["ntsc"].cpu_hz
EXACT = 1e-9  # float64 round-off of integrals over ~10^5 cycles


def reference_noise(frames: driver.VoiceFrames, short: bool, num_samples: int) -> np.ndarray:
    """Cycle-by-cycle LFSR and timer, then the mean over each sample's span of CPU cycles.

    Frame k starts at cycle ⌊k · 29780.5⌋. The timer steps at cycle 0, then every `period`
    cycles; a step that crosses into a frame was scheduled with the previous frame's period.
    """
    cps = CPU_HZ / SAMPLE_RATE
    num_cycles = int((num_samples + 1) * cps) + 2
    frame_of = (np.arange(num_cycles) * 2 + 1) // tables.REGIONS["ntsc"].frame_cycles2
    level = np.zeros(num_cycles)
    state, step_at, gate = 1, 0, 0
    tap = 6 if short else 1
    for cycle in range(num_cycles):
        k = frame_of[cycle]
        if cycle == step_at:
            state = (state >> 1) | ((((state >> tap) ^ state) & 1) << 14)
            step_at += int(frames.period[k])
        gate = 1 - (state & 1)
        level[cycle] = gate * mix.NOISE_TABLE[frames.volume[k]]
    integral = np.concatenate([[0.0], np.cumsum(level)])

    def at(t):
        whole = np.floor(t).astype(np.int64)
        return integral[whole] + (t - whole) * level[whole]

    bounds = np.maximum((np.arange(num_samples + 1) - 0.5) * cps, 0.0)
    return np.diff(at(bounds)) / cps


@pytest.mark.parametrize("short", [False, True])
def test_noise_matches_a_cycle_by_cycle_model(short):
    """Fast (closed form) and slow (box steps) periods, volume changes and a period change."""
    notes = [
        ChipNote("Noise", 0, sec_to_tick(0.02), (0,), 15, int(short)),
        ChipNote("Noise", sec_to_tick(0.02), sec_to_tick(0.05), (13,), 12, int(short)),
        ChipNote("Noise", sec_to_tick(0.05), sec_to_tick(0.07), (3,), 9, int(short)),
    ]
    inst = {"Noise": Instrument(0, (15, 11, 7, 4), ())}
    score = score_of(notes, end_sec=0.08, instruments=inst)
    num_samples = int(0.075 * SAMPLE_RATE)
    got = mix_unfiltered(score, SynthConfig(), num_samples)
    frames = driver.voice_frames(score, "Noise", 8, "ntsc")
    want = reference_noise(frames, short, num_samples)
    assert np.abs(want).max() > 0.01
    np.testing.assert_allclose(got, want, atol=EXACT)


@pytest.mark.parametrize("index", range(16))
def test_noise_never_exceeds_its_level_bound(index):
    x = mix_unfiltered(held_score("Noise", index, seconds=0.15, duty=index % 2))
    assert x.min() >= -EXACT
    assert x.max() <= mix.NOISE_TABLE[15] + EXACT
    assert x.max() > 0.25 * mix.NOISE_TABLE[15]


def test_short_mode_has_lines_at_cpu_over_93_periods():
    period = tables.REGIONS["ntsc"].noise_periods[8]
    line_hz = CPU_HZ / (93 * period)
    x = steady(mix_unfiltered(held_score("Noise", 8, duty=1)), SAMPLE_RATE)
    power = power_spectrum(x)
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    band = (freqs > 20) & (freqs < 8000)
    harmonic = np.abs(freqs / line_hz - np.round(freqs / line_hz)) * line_hz <= 6 * freqs[1]
    share = power[band & harmonic].sum() / power[band].sum()
    assert share > 0.999


def test_long_mode_is_broadband():
    x = steady(mix_unfiltered(held_score("Noise", 8, duty=0)), SAMPLE_RATE)
    power = power_spectrum(x)
    peak_share = np.sort(power)[-50:].sum() / power.sum()
    assert peak_share < 0.05
