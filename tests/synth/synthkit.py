"""Helpers for the synth tests: held-tone scores and the spectral measurements of chip.md §8.2."""

from __future__ import annotations

import numpy as np
from scipy import signal

from chipline.chip import ChipNote, ChipScore, Instrument
from chipline.score import Tempo, TimeSignature

TICKS_PER_BEAT = 480
US_PER_BEAT = 500_000  # 120 qpm: one tick is 1/960 s


def sec_to_tick(sec: float) -> int:
    return round(sec * 1e6 / US_PER_BEAT * TICKS_PER_BEAT)


def score_of(notes, chip="nes", end_sec=None, instruments=None) -> ChipScore:
    end = max((n.end_tick for n in notes), default=0)
    if end_sec is not None:
        end = sec_to_tick(end_sec)
    return ChipScore(
        chip=chip,
        ticks_per_beat=TICKS_PER_BEAT,
        notes=tuple(notes),
        tempos=(Tempo(0, US_PER_BEAT),),
        time_signatures=(TimeSignature(0),),
        end_tick=end,
        instruments=dict(instruments or {}),
    )


def held_score(voice, pitch, seconds=1.2, duty=2, volume=15, chip="nes") -> ChipScore:
    """One constant-volume note from t = 0 on `voice`."""
    note = ChipNote(voice, 0, sec_to_tick(seconds), (pitch,), volume=volume)
    return score_of([note], chip=chip, instruments={voice: Instrument(duty=duty)})


def steady(x: np.ndarray, sample_rate: int, skip_sec=0.1, num_sec=1.0) -> np.ndarray:
    """The held part of a render: `num_sec` seconds from `skip_sec`, DC removed."""
    start = int(skip_sec * sample_rate)
    seg = np.asarray(x[start : start + int(num_sec * sample_rate)], dtype=np.float64)
    return seg - seg.mean()


def f0_hz(x: np.ndarray, sample_rate: int, near_hz: float) -> float:
    """Fundamental by Hann window, 8× zero padding and a parabolic peak fit near `near_hz`."""
    n = len(x) * 8
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n))
    bin_hz = sample_rate / n
    lo, hi = int(near_hz * 0.97 / bin_hz), int(near_hz * 1.03 / bin_hz) + 2
    k = lo + int(np.argmax(spec[lo:hi]))
    a, b, c = np.log(spec[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * bin_hz


def power_spectrum(x: np.ndarray) -> np.ndarray:
    win = signal.windows.blackmanharris(len(x))
    return np.abs(np.fft.rfft(x * win)) ** 2


def alias_db(x: np.ndarray, sample_rate: int, f0: float, band_hz=(20.0, 12_000.0)) -> float:
    """Inharmonic / harmonic energy in `band_hz` (dB): energy beyond ±6 bins of every k·f0."""
    power = power_spectrum(x)
    freqs = np.fft.rfftfreq(len(x), 1 / sample_rate)
    bin_hz = freqs[1]
    in_band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    harmonic = np.zeros(len(freqs), dtype=bool)
    for k in range(1, int(band_hz[1] / f0) + 2):
        harmonic |= np.abs(freqs - k * f0) <= 6 * bin_hz
    inharmonic = power[in_band & ~harmonic].sum()
    return 10 * np.log10(inharmonic / power[in_band & harmonic].sum())


def harmonic_db(x: np.ndarray, sample_rate: int, f0: float, ks) -> np.ndarray:
    """Level (dB) of harmonics `ks` of f0: peak power within ±3 bins, relative to harmonic 1."""
    power = power_spectrum(x)
    bin_hz = sample_rate / len(x)

    def peak(f):
        k = round(f / bin_hz)
        return power[k - 3 : k + 4].max()

    ref = peak(f0)
    return np.array([10 * np.log10(peak(k * f0) / ref) for k in ks])
