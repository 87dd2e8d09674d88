"""The noise voice, area-sampled exactly: each output sample is the mean LFSR output over it.

The LFSR can run at up to 447 kHz, far above the sample rate, so its level changes are not
placed one by one. Instead the running integral of the output is evaluated in closed form at
every sample boundary (prefix sums over one LFSR period) and differenced. The cost depends on
the number of samples while the noise sounds, not on the LFSR rate.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from chipline.synth import tables
from chipline.synth.apu import Schedule, schedule
from chipline.synth.driver import VoiceFrames

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@cache
def _gate_tables(short_mode: bool) -> tuple[IntArray, IntArray]:
    gate = tables.lfsr_off_bits(short_mode).astype(np.int64)
    return gate, np.concatenate([[0], np.cumsum(gate)])


def _within_frame_integral(
    t: FloatArray, k: IntArray, sch: Schedule, steps_before: IntArray, short_mode: bool
) -> FloatArray:
    """∫ gate dt from the start of frame k to time t (CPU cycles), for t inside frame k."""
    gate, prefix = _gate_tables(short_mode)
    num = len(gate)

    def pre(x: IntArray) -> IntArray:
        return (x // num) * prefix[num] + prefix[x % num]

    start = sch.frame_start[k].astype(np.float64)
    first = sch.first[k].astype(np.float64)
    period = sch.step[k].astype(np.float64)
    sb = steps_before[k]
    g0 = gate[sb % num]
    m = np.maximum(np.floor((t - first) / period), 0).astype(np.int64)
    after = (
        (first - start) * g0
        + period * (pre(sb + 1 + m) - pre(sb + 1))
        + (t - first - m * period) * gate[(sb + 1 + m) % num]
    )
    return np.where(t < first, (t - start) * g0, after)


def noise_samples(
    frames: VoiceFrames,
    frame_start: IntArray,
    frame_value: FloatArray,
    num_samples: int,
    cycles_per_sample: float,
) -> FloatArray:
    """Area-sampled noise output: float64, shape (num_samples,).

    `frame_value` (float64, per frame) is the mixer output while the LFSR gate is open; sample n
    averages the output over [n − ½, n + ½) samples, i.e. it is centred like the band-limited
    steps of the other voices.
    """
    sch = schedule(frame_start, frames.period, np.ones(len(frames.period), dtype=bool))
    steps_before = np.cumsum(sch.count) - sch.count
    short = (frames.duty & 1).astype(bool)
    num_frames = len(frames.period)
    bounds = np.arange(num_samples + 1, dtype=np.float64)
    n_first = np.clip(
        np.ceil(frame_start / cycles_per_sample + 0.5).astype(np.int64), 0, num_samples + 1
    )
    totals = np.zeros(num_frames)
    active = np.flatnonzero(frame_value != 0)
    for mode in (False, True):
        ks = active[short[active] == mode]
        end_t = frame_start[ks + 1].astype(np.float64)
        totals[ks] = _within_frame_integral(end_t, ks, sch, steps_before, mode)
    totals *= frame_value
    base = np.cumsum(totals) - totals
    integral = np.zeros(num_samples + 1)
    integral[n_first[0] : n_first[-1]] = np.repeat(base, np.diff(n_first))
    integral[n_first[-1] :] = base[-1] + totals[-1]
    counts = np.diff(n_first)[active]
    offsets = np.cumsum(counts) - counts
    n_idx = np.repeat(n_first[active] - offsets, counts) + np.arange(counts.sum())
    k_idx = np.repeat(active, counts)
    t = (bounds[n_idx] - 0.5) * cycles_per_sample
    for mode in (False, True):
        sel = short[k_idx] == mode
        g = _within_frame_integral(t[sel], k_idx[sel], sch, steps_before, mode)
        integral[n_idx[sel]] += frame_value[k_idx[sel]] * g
    return np.diff(integral) / cycles_per_sample
