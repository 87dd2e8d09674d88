"""Output filter profiles (chip.md §8.2 item 7): each stage's −3 dB point within ±2 %."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from chipline.synth import filters

TOLERANCE = 0.02


def _minus_3db_hz(sos: np.ndarray, sample_rate: int) -> float:
    """The first frequency where the measured response crosses −3 dB (2^18-sample impulse)."""
    impulse = np.zeros(1 << 18)
    impulse[0] = 1.0
    response = np.abs(np.fft.rfft(signal.sosfilt(sos, impulse)))
    freqs = np.fft.rfftfreq(len(impulse), 1 / sample_rate)
    excess = 20 * np.log10(np.maximum(response, 1e-300)) + 3.0103
    k = int(np.flatnonzero(np.diff(np.sign(excess)) != 0)[0])
    return float(freqs[k] - excess[k] * (freqs[k + 1] - freqs[k]) / (excess[k + 1] - excess[k]))


@pytest.mark.parametrize("sample_rate", [44100, 48000])
@pytest.mark.parametrize(
    ("profile", "stage"), [("clean", 0), ("famicom", 0), ("nes", 0), ("nes", 1), ("nes", 2)]
)
def test_stage_cutoffs(profile, stage, sample_rate):
    kind, nominal_hz = filters.PROFILES[profile][stage]
    sos = filters.stage_sos(kind, nominal_hz, sample_rate)
    assert abs(_minus_3db_hz(sos, sample_rate) / nominal_hz - 1) <= TOLERANCE


def test_famicom_profile_response_via_apply():
    impulse = np.zeros(1 << 18)
    impulse[0] = 1.0
    response = np.abs(np.fft.rfft(filters.apply(impulse, "famicom", 44100)))
    freqs = np.fft.rfftfreq(len(impulse), 1 / 44100)
    at = np.interp([37.0, 1000.0], freqs, 20 * np.log10(response))
    assert at[0] == pytest.approx(-3.0103, abs=0.05)
    assert at[1] == pytest.approx(0.0, abs=0.02)


def test_nes_profile_is_thin_and_dull():
    impulse = np.zeros(1 << 16)
    impulse[0] = 1.0
    response = np.abs(np.fft.rfft(filters.apply(impulse, "nes", 44100)))
    freqs = np.fft.rfftfreq(len(impulse), 1 / 44100)
    db = np.interp([100.0, 3000.0, 18000.0], freqs, 20 * np.log10(response))
    assert db[0] < -10  # two high-passes at 90 and 440 Hz
    assert db[1] == pytest.approx(0.0, abs=0.3)
    assert db[2] < -4  # 14 kHz low-pass


def test_filters_remove_dc():
    step = np.ones(44100 * 2)
    for name in ("clean", "famicom", "nes"):
        assert abs(filters.apply(step, name, 44100)[-1]) < 1e-3


@pytest.mark.parametrize("name", ["clean", "famicom", "nes"])
def test_fused_block_filter_equals_integrate_then_filter(name):
    """The render integrates inside the first high-pass, block by block; same result."""
    rng = np.random.default_rng(7)
    incr = 0.02 * rng.normal(size=50_000) * (rng.random(50_000) < 0.01)
    blocks = [incr[a : a + 4096] for a in range(0, len(incr), 4096)]
    got = filters.filter_increments(blocks, 5, 40_000, name, 44100)
    want = filters.apply(np.cumsum(incr), name, 44100)[5:40_005]
    scale = np.abs(want).max()
    assert 0.0 < scale < 1.0
    np.testing.assert_allclose(got, want, atol=1e-6 * scale)
    assert got.dtype == np.float32
