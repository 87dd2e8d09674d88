"""The noise voice, area-sampled exactly: each output sample is the mean LFSR output over it.

Area sampling (a box filter of one sample) is what the noise needs: the LFSR can run at up to
447 kHz, far above the sample rate, and its output is noise anyway. Two exact ways, chosen per
frame by the LFSR rate:

- slow LFSR (period ≥ 2 samples): every gate change is a box step (`blep` area-samples it);
- fast LFSR: the running integral of the output is evaluated in closed form at every sample
  boundary (prefix sums over one LFSR period) and differenced, so the cost follows the number
  of samples, not the LFSR rate.

The LFSR step count runs on through every note; its output is the gate of that step in the
current mode's sequence (from the power-up state 1). On the chip a mode switch continues from
the shared shift-register state instead, which only changes which noise pattern a drum hit gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from chipline.synth import apu, tables
from chipline.synth.driver import VoiceFrames

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
FAST_PERIOD_SAMPLES = 2.0  # LFSR periods shorter than this many samples use the closed form
GROUP_FRAMES = 256  # closed-form frames evaluated together


@dataclass(frozen=True)
class _GateTable:
    """Both LFSR modes' gates, each extended past one period so a frame never wraps.

    `gate[j]` is the output gate and `prefix[j]` the sum of `gate[:j]` within one mode's
    segment; mode m's segment starts at `offset[m]` and has period `length[m]`.
    """

    gate: IntArray
    prefix: IntArray
    offset: tuple[int, int]
    length: tuple[int, int]


@cache
def _gate_table(max_steps: int) -> _GateTable:
    parts, prefixes, offsets, lengths = [], [], [], []
    start = 0
    for short in (False, True):
        one = tables.lfsr_off_bits(short).astype(np.int64)
        ext = np.tile(one, -(-(len(one) + max_steps + 2) // len(one)))
        parts.append(ext)
        prefixes.append(np.concatenate([[0], np.cumsum(ext)[:-1]]))
        offsets.append(start)
        lengths.append(len(one))
        start += len(ext)
    return _GateTable(
        np.concatenate(parts),
        np.concatenate(prefixes),
        (offsets[0], offsets[1]),
        (lengths[0], lengths[1]),
    )


@dataclass(frozen=True)
class NoiseOutput:
    """The noise voice for `blep.increment_blocks`: fast-LFSR frames as per-sample values
    (`sample_index` ascending, `sample_value`), slow ones as box steps (`cycle`, `delta`)."""

    sample_index: IntArray
    sample_value: FloatArray
    cycle: IntArray
    delta: FloatArray


def noise_output(
    frames: VoiceFrames,
    frame_start: IntArray,
    frame_value: FloatArray,
    num_samples: int,
    cycles_per_sample: float,
) -> NoiseOutput:
    """The noise voice, sample n averaging the output over [n − ½, n + ½) samples.

    `frame_value` (float64, per frame) is the mixer output while the gate is open.
    """
    sch = apu.schedule(frame_start, frames.period, np.ones(len(frames.period), dtype=bool))
    short = (frames.duty & 1).astype(np.int64)
    fast = frames.period < FAST_PERIOD_SAMPLES * cycles_per_sample
    active = frame_value != 0
    slow_value = np.where(active & ~fast, frame_value, 0.0)
    events = _slow_events(sch, short, slow_value)
    fast_value = np.where(active & fast, frame_value, 0.0)
    index, value = _closed_form(sch, short, fast_value, num_samples, cycles_per_sample)
    return NoiseOutput(index, value, events[0], events[1])


def _slow_events(
    sch: apu.Schedule, short: IntArray, value: FloatArray
) -> tuple[IntArray, FloatArray]:
    gates = (tables.lfsr_off_bits(False), tables.lfsr_off_bits(True))
    lengths = np.array([len(g) for g in gates])
    both = np.concatenate(gates).astype(np.int64)
    offset = np.array([0, len(gates[0])])

    def level_at(pos: IntArray, frame: IntArray) -> npt.NDArray[np.float64]:
        mode = short[frame]
        return both[offset[mode] + pos % lengths[mode]] * value[frame]

    events = apu.level_events(sch, level_at, frame_mask=value != 0)
    return apu.changes(events, events.level)


def _closed_form(
    sch: apu.Schedule, short: IntArray, value: FloatArray, num_samples: int, cps: float
) -> tuple[IntArray, FloatArray]:
    """Box-filtered output of the frames with a nonzero `value`, by integrals at boundaries.

    Per frame, the integral is evaluated at the sample boundaries inside it and at its end;
    its differences are the frame's share of each sample it overlaps (frames sharing a sample
    add up). Cost: the samples of these frames only. Returns (sample indices, ascending; values).
    """
    active = np.flatnonzero(value)
    if len(active) == 0 or num_samples == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    table = _gate_table(int(sch.count.max()))
    steps_before = np.cumsum(sch.count) - sch.count
    mode = short[active]
    length = np.array(table.length)[mode]
    # Index of the gate after the frame's first step; index − 1 is the gate before it.
    r1 = np.array(table.offset)[mode] + 1 + steps_before[active] % length
    start = sch.frame_start[active].astype(np.float64)
    first = sch.first[active].astype(np.float64)
    period = sch.step[active].astype(np.float64)
    lead = (first - start) * table.gate[r1 - 1] - period * table.prefix[r1]
    # Sample boundary n is at (n − ½) samples; boundaries in frame k: n_first[k] ≤ n < n_first[k+1].
    n_first = np.ceil(sch.frame_start / cps + 0.5).astype(np.int64)
    per_frame = _FrameParams(
        n_first[active],
        n_first[active + 1] - n_first[active],
        sch.frame_start[active + 1].astype(np.float64),
        first,
        period,
        r1,
        lead,
        value[active] / cps,
        cps,
    )
    parts = [
        _group_samples(per_frame, slice(a, a + GROUP_FRAMES), table, num_samples)
        for a in range(0, len(active), GROUP_FRAMES)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@dataclass(frozen=True)
class _FrameParams:
    """Per sounding frame: first boundary, boundaries inside, end cycle, and integral terms."""

    n_first: IntArray
    inside: IntArray
    end: FloatArray
    first: FloatArray
    period: FloatArray
    r1: IntArray
    lead: FloatArray
    scale: FloatArray  # mixer value / cycles per sample
    cycles_per_sample: float


def _group_samples(
    fp: _FrameParams, group: slice, table: _GateTable, num_samples: int
) -> tuple[IntArray, FloatArray]:
    """The samples of a group of frames (a group bounds the size of the temporaries)."""
    inside = fp.inside[group]
    points = inside + 1  # the boundaries inside, then the frame's end
    f = np.repeat(np.arange(group.start, group.start + len(inside)), points)
    j = np.arange(points.sum()) - np.repeat(np.cumsum(points) - points, points)
    n = fp.n_first[f] + j
    t = np.where(j == fp.inside[f], fp.end[f], (n - 0.5) * fp.cycles_per_sample)
    g = _integral(t - fp.first[f], fp.period[f], fp.r1[f], fp.lead[f], table)
    share = np.diff(g, prepend=0.0)
    share[j == 0] = g[j == 0]
    keep = (n >= 1) & (n <= num_samples)  # boundary n closes sample n − 1
    return n[keep] - 1, share[keep] * fp.scale[f[keep]]


def _integral(
    u: FloatArray, period: FloatArray, r1: IntArray, lead: FloatArray, table: _GateTable
) -> FloatArray:
    """∫ gate dt from the frame start to `first + u` (u ≥ start − first), in CPU cycles."""
    m = np.maximum(np.floor(u / period), -1.0)
    j = r1 + m.astype(np.int64)
    return lead + period * table.prefix[j] + (u - m * period) * table.gate[j]
