"""Loudness: BS.1770 integrated loudness, 4x-oversampled true peak, normalisation to a target."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm

from chipline.errors import ConfigError

PRESETS_LUFS: dict[str, float] = {"default": -18.0, "console": -23.0, "mobile": -16.0, "web": -16.0}
TRUE_PEAK_CEILING_DBTP = -1.0
OVERSAMPLE = 4
_TAPS_PER_PHASE = 12  # 48 taps in all, as the BS.1770-4 Annex 2 example filter


def _interpolator() -> npt.NDArray[np.float32]:
    """The 4x interpolation filter of the true-peak meter, shape (3, taps): phases 1..3.

    A Kaiser-windowed sinc with zeros at every 4th tap: phase 0 is the input itself, so only
    the three in-between phases need computing.
    """
    n = np.arange(OVERSAMPLE * _TAPS_PER_PHASE) - OVERSAMPLE * _TAPS_PER_PHASE // 2
    h = np.sinc(n / OVERSAMPLE) * np.kaiser(len(n), 6.0)
    phases = np.stack(
        [
            h[(p + OVERSAMPLE * _TAPS_PER_PHASE // 2) % OVERSAMPLE :: OVERSAMPLE]
            for p in range(OVERSAMPLE)
        ]
    )
    return phases[1:].astype(np.float32)


_PHASES = _interpolator()
_CEILING_MARGIN_DB = 0.02  # keeps 16-bit rounding from nudging a peak over the ceiling
_MIN_BLOCK_SEC = 0.4  # the BS.1770 gating block; shorter audio is repeated or padded to it


@dataclass(frozen=True)
class LoudnessReport:
    """What normalisation measured and did (LUFS, dBTP, dB; None where the audio is silent)."""

    target_lufs: float
    source_lufs: float | None
    gain_db: float
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    peak_limited: bool  # True when the true-peak ceiling kept the gain below the target's


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
            peak = max(peak, float(np.abs(np.convolve(channel, taps)).max()))
    return 20 * math.log10(peak) if peak > 0 else None


def normalize(
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP,
    loop: bool = False,
) -> tuple[npt.NDArray[np.float32], LoudnessReport]:
    """Scale `audio` to `target_lufs`, never letting the true peak exceed `ceiling_dbtp`.

    A plain gain (no limiter): chip music has ~14 dB between peak and loudness, so -16..-23 LUFS
    needs none. Where the ceiling binds, the gain stops there and `peak_limited` says so.
    Returns the scaled audio (float32, same shape) and what was measured.
    """
    source = integrated_lufs(audio, sample_rate, loop)
    peak = true_peak_dbtp(audio, loop)
    gain_db = 0.0 if source is None else target_lufs - source
    ceiling = ceiling_dbtp - _CEILING_MARGIN_DB
    limited = peak is not None and peak + gain_db > ceiling
    if limited and peak is not None:
        gain_db = ceiling - peak
    scaled = (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    report = LoudnessReport(
        target_lufs=target_lufs,
        source_lufs=_round(source),
        gain_db=round(gain_db, 3),
        integrated_lufs=_round(None if source is None else source + gain_db),
        true_peak_dbtp=_round(None if peak is None else peak + gain_db),
        peak_limited=bool(limited),
    )
    return scaled, report


def _pad(x: npt.NDArray[np.float64], length: int) -> npt.NDArray[np.float64]:
    out = np.zeros((length,) + x.shape[1:], dtype=np.float64)
    out[: len(x)] = x
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
