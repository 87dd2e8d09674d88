"""Loudness: targets, BS.1770 integrated loudness via normalisation, 4x true peak."""

from __future__ import annotations

import numpy as np
import pytest

from chipline.errors import ConfigError
from chipline.master.loudness import integrated_lufs, normalize, parse_target, true_peak_dbtp

SR = 44100


def _tone(seconds: float = 3.0, hz: float = 997.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sign(np.sin(2 * np.pi * hz * t))).astype(np.float32)


@pytest.mark.parametrize(
    ("value", "lufs"),
    [
        ("default", -18.0),
        ("console", -23.0),
        ("Mobile", -16.0),
        ("web", -16.0),
        ("-20.5", -20.5),
        (-14, -14.0),
    ],
)
def test_parse_target(value, lufs):
    assert parse_target(value) == lufs


@pytest.mark.parametrize("value", ["loud", "5", "-99", float("nan")])
def test_parse_target_rejects(value):
    with pytest.raises(ConfigError, match="loudness"):
        parse_target(value)


def test_full_scale_sine_reads_minus_3_lufs():
    # BS.1770: a 997 Hz sine at 0 dBFS peak in one channel reads -3.01 LUFS
    t = np.arange(3 * SR) / SR
    sine = np.sin(2 * np.pi * 997 * t).astype(np.float32)
    assert integrated_lufs(sine, SR) == pytest.approx(-3.01, abs=0.05)


def test_true_peak_finds_intersample_peak():
    # a sine at fs/4 sampled 45 degrees off its crest: samples reach 0.707, the wave reaches 1.0
    n = np.arange(SR)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x) == pytest.approx(0.0, abs=0.2)


@pytest.mark.parametrize("target", [-23.0, -18.0, -16.0])
def test_normalize_hits_target_under_ceiling(target):
    x = _tone(amp=0.05)
    y, report = normalize(x, SR, target)
    assert integrated_lufs(y, SR) == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp(y) <= -1.0
    assert report.integrated_lufs == pytest.approx(integrated_lufs(y, SR), abs=0.05)
    assert report.true_peak_dbtp == pytest.approx(true_peak_dbtp(y), abs=0.05)
    assert not report.peak_limited


@pytest.mark.parametrize("loop", [False, True])
def test_limiter_reaches_target_under_ceiling(loop):
    x = _tone(amp=0.01)
    x[:: SR // 4] += 0.5  # clicks: peaks 30 dB over a quiet tone
    y, report = normalize(x, SR, -16.0, loop=loop)
    assert report.peak_limited
    assert true_peak_dbtp(y, loop=loop) <= -1.0
    assert integrated_lufs(y, SR) == pytest.approx(-16.0, abs=0.5)
    assert report.integrated_lufs == pytest.approx(integrated_lufs(y, SR, loop=loop), abs=0.01)
    # away from the clicks the gain is the plain one: the tone is untouched in shape
    quiet = slice(SR // 8 - 1000, SR // 8 + 1000)
    ratio = y[quiet] / np.where(x[quiet] == 0, 1, x[quiet])
    assert np.ptp(ratio[x[quiet] != 0]) < 1e-3


def test_silence_and_short_audio():
    y, report = normalize(np.zeros(SR, np.float32), SR, -18.0)
    assert report.source_lufs is None
    assert report.true_peak_dbtp is None
    assert report.gain_db == 0
    assert not y.any()
    short = _tone(seconds=0.1, amp=0.1)
    assert integrated_lufs(short, SR, loop=True) == pytest.approx(
        integrated_lufs(_tone(amp=0.1), SR), abs=0.3
    )
