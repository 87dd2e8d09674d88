"""Loudness: BS.1770 integrated loudness, 4x-oversampled true peak, normalisation to a target."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
import scipy.ndimage
import scipy.signal

from chipline.errors import ConfigError

PRESETS_LUFS: dict[str, float] = {"default": -18.0, "console": -23.0, "mobile": -16.0, "web": -16.0}
TRUE_PEAK_CEILING_DBTP = -1.0
OVERSAMPLE = 4
_TAPS_PER_PHASE = 24  # 96 taps: within 0.03 dB of 8x polyphase resampling on chip audio


def _interpolator() -> npt.NDArray[np.float32]:
    """The 4x interpolation filter of the true-peak meter, shape (3, taps): phases 1..3.

    A Kaiser-windowed sinc with zeros at every 4th tap: phase 0 is the input itself, so only
    the three in-between phases need computing.
    """
    n = np.arange(OVERSAMPLE * _TAPS_PER_PHASE) - OVERSAMPLE * _TAPS_PER_PHASE // 2
    h = np.sinc(n / OVERSAMPLE) * np.kaiser(len(n), 8.0)
    phases = np.stack(
        [
            h[(p + OVERSAMPLE * _TAPS_PER_PHASE // 2) % OVERSAMPLE :: OVERSAMPLE]
            for p in range(OVERSAMPLE)
        ]
    )
    return phases[1:].astype(np.float32)


_PHASES = _interpolator()
_CEILING_MARGIN_DB = 0.1  # room for 16-bit rounding and for meters that read a little higher
_LIMITER_PASSES = 4  # gain re-measured after limiting; two passes usually land within 0.05 LU
LIMITER_WINDOW_SEC = 0.01  # look-ahead/hold either side of a peak, and the smoothing length
_MIN_BLOCK_SEC = 0.4  # the BS.1770 gating block; shorter audio is repeated or padded to it


@dataclass(frozen=True)
class LoudnessReport:
    """What normalisation measured and did (LUFS, dBTP, dB; None where the audio is silent)."""

    target_lufs: float
    source_lufs: float | None
    gain_db: float
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    peak_limited: bool  # True when the true-peak limiter had to work (see `normalize`)


def parse_target(value: str | float) -> float:
    """A loudness target in LUFS from a preset name (`PRESETS_LUFS`) or a number (-70..0)."""
    if isinstance(value, str):
        if value.strip().lower() in PRESETS_LUFS:
            return PRESETS_LUFS[value.strip().lower()]
        try:
            value = float(value)
        except ValueError:
            names = ", ".join(PRESETS_LUFS)
            raise ConfigError(
                f"loudness {value!r}: not a preset ({names}) nor a number in LUFS"
            ) from None
    if not -70.0 <= value <= 0.0 or math.isnan(value):
        raise ConfigError(f"loudness {value} LUFS: outside -70..0; try -18 (default) or -23")
    return float(value)


def integrated_lufs(
    audio: npt.NDArray[np.float32], sample_rate: int, loop: bool = False
) -> float | None:
    """BS.1770-4 integrated loudness in LUFS of float audio (num_samples,) or (n, channels).

    Audio shorter than one 400 ms block is repeated (`loop`) or padded with silence to it.
    Returns None for silence (below the -70 LUFS absolute gate).
    """
    x = np.asarray(audio, dtype=np.float64)
    need = int(math.ceil(_MIN_BLOCK_SEC * sample_rate)) + 1
    if len(x) < need:
        x = np.resize(x, (need,) + x.shape[1:]) if loop and len(x) else _pad(x, need)
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x))
    return value if math.isfinite(value) else None


def _filtered(channel: npt.NDArray[np.float32], taps: npt.NDArray[np.float32]) -> npt.NDArray:
    """The full convolution of `channel` with one phase's taps (overlap-add FFT: 2x faster than
    `np.convolve` on a minute of audio, within float32 rounding of it)."""
    return scipy.signal.oaconvolve(channel, taps)


def true_peak_dbtp(audio: npt.NDArray[np.float32], loop: bool = False) -> float | None:
    """The largest inter-sample peak in dBTP, the signal oversampled 4x (None for silence).

    With `loop` the end of the audio is put before its start, so peaks across the seam count.
    """
    x = np.asarray(audio, dtype=np.float32).reshape(len(audio), -1)
    pad = _TAPS_PER_PHASE
    if loop and len(x) > pad:
        x = np.concatenate([x[-pad:], x])
    peak = float(np.abs(x).max()) if len(x) else 0.0
    for channel in x.T:
        for taps in _PHASES:
            peak = max(peak, float(np.abs(_filtered(channel, taps)).max()))
    return 20 * math.log10(peak) if peak > 0 else None


def normalize(
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP,
    loop: bool = False,
) -> tuple[npt.NDArray[np.float32], LoudnessReport]:
    """Scale `audio` to `target_lufs` with its true peak at or below `ceiling_dbtp`.

    Usually a plain gain: chip music has ~14 dB between peak and loudness. Where the gain would
    push the true peak over the ceiling, a look-ahead true-peak limiter (`limit`) takes the
    peaks down and the gain is re-measured until the loudness meets the target.
    Returns the scaled audio (float32, same shape) and what was measured.
    """
    source = integrated_lufs(audio, sample_rate, loop)
    peak = true_peak_dbtp(audio, loop)
    gain_db = 0.0 if source is None else target_lufs - source
    ceiling = ceiling_dbtp - _CEILING_MARGIN_DB
    if source is None or peak is None or peak + gain_db <= ceiling:
        scaled = (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)
        lufs = None if source is None else source + gain_db
        out_peak = None if peak is None else peak + gain_db
        return scaled, _report(target_lufs, source, gain_db, lufs, out_peak, False)
    for _ in range(_LIMITER_PASSES):
        scaled = limit(audio * np.float32(10 ** (gain_db / 20)), sample_rate, ceiling, loop)
        lufs = integrated_lufs(scaled, sample_rate, loop)
        if lufs is None or abs(lufs - target_lufs) < 0.05:
            break
        gain_db += target_lufs - lufs
    out_peak = true_peak_dbtp(scaled, loop)
    if out_peak is not None and out_peak > ceiling:  # the limiter's own small overshoot
        scaled = scaled * np.float32(10 ** ((ceiling - out_peak) / 20))
        lufs, out_peak = integrated_lufs(scaled, sample_rate, loop), true_peak_dbtp(scaled, loop)
    return scaled.astype(np.float32), _report(target_lufs, source, gain_db, lufs, out_peak, True)


def limit(
    audio: npt.NDArray[np.float32], sample_rate: int, ceiling_dbtp: float, loop: bool = False
) -> npt.NDArray[np.float32]:
    """Audio with its 4x-oversampled peaks brought down to `ceiling_dbtp` by a smooth gain.

    The gain each sample needs is held for `LIMITER_WINDOW_SEC` either side (look-ahead and
    hold), then averaged over that window: the average never exceeds the need, and the gain
    moves smoothly. With `loop` the gain wraps around, as playback does.
    """
    x = np.asarray(audio, dtype=np.float32).reshape(len(audio), -1)
    envelope = np.abs(x).max(axis=1)
    for channel in x.T:
        for taps in _PHASES:
            y = np.abs(_filtered(channel, taps))[_TAPS_PER_PHASE // 2 :][: len(x)]
            envelope = np.maximum(envelope, y)
            envelope[1:] = np.maximum(envelope[1:], y[:-1])  # the point lies between two samples
    ceiling = 10 ** (ceiling_dbtp / 20)
    need = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    half = max(1, int(LIMITER_WINDOW_SEC * sample_rate))
    mode = "wrap" if loop else "nearest"
    held = scipy.ndimage.minimum_filter1d(need, 2 * half + 1, mode=mode)
    gain = scipy.ndimage.uniform_filter1d(held, 2 * (half // 2) + 1, mode=mode)
    return (x * gain[:, None].astype(np.float32)).reshape(audio.shape).astype(np.float32)


def _report(
    target: float,
    source: float | None,
    gain_db: float,
    lufs: float | None,
    peak: float | None,
    limited: bool,
) -> LoudnessReport:
    return LoudnessReport(
        target_lufs=target,
        source_lufs=_round(source),
        gain_db=round(gain_db, 3),
        integrated_lufs=_round(lufs),
        true_peak_dbtp=_round(peak),
        peak_limited=limited,
    )


def _pad(x: npt.NDArray[np.float64], length: int) -> npt.NDArray[np.float64]:
    out = np.zeros((length,) + x.shape[1:], dtype=np.float64)
    out[: len(x)] = x
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
