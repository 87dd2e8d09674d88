"""Timer-exact sequencers: every change of a voice's output level at its CPU-clock time.

Each voice's timer runs with the period set for the current frame; a period change takes
effect at the next timer reload, as on the chip. The result is the voice's DAC level as a
piecewise-constant function of time (`LevelEvents`), which `blep` turns into samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from chipline.synth import tables, vrc6
from chipline.synth.driver import VoiceFrames

IntArray = npt.NDArray[np.int64]
SHORT_RUN = 8  # runs of at most this many frames are scheduled with plain integers


@dataclass(frozen=True)
class Schedule:
    """When a voice's sequencer steps: per frame k, `count[k]` steps at `first[k] + i·step[k]`.

    `frame_start` (int64, shape (num_frames + 1,)) holds the CPU cycle at which each frame begins.
    """

    frame_start: IntArray
    first: IntArray
    count: IntArray
    step: IntArray


@dataclass(frozen=True)
class LevelEvents:
    """A voice's DAC level from `cycle[i]` on is `level[i]` (cycles int64, ascending)."""

    cycle: IntArray
    level: np.ndarray


def frame_starts(num_frames: int, region: tables.Region) -> IntArray:
    """CPU cycle at which each frame starts: int64, shape (num_frames + 1,)."""
    return np.arange(num_frames + 1, dtype=np.int64) * region.frame_cycles2 // 2


def schedule(frame_start: IntArray, step: IntArray, running: npt.NDArray[np.bool_]) -> Schedule:
    """Step times of a timer whose period `step` (CPU cycles, per frame) changes at frame starts.

    The step that crosses a frame start was scheduled with the old period (the divider reloads
    only when it expires). Where `running` is false the sequencer holds (the triangle's halt).
    Frames are handled in runs of equal period and running state: the first step of each frame
    of a run is the first point of the run's step grid at or after the frame's start.
    """
    num_frames = len(step)
    first = np.empty(num_frames + 1, dtype=np.int64)
    change = np.flatnonzero((np.diff(step) != 0) | (np.diff(running) != 0)) + 1
    bounds = [0, *change.tolist(), num_frames]
    starts = frame_start.tolist()
    t = starts[0]
    for k0, k1 in zip(bounds[:-1], bounds[1:], strict=True):
        first[k0] = t
        period, runs = int(step[k0]), bool(running[k0])
        if k1 - k0 <= SHORT_RUN:  # plain integers are faster for a few frames
            for k in range(k0 + 1, k1 + 1):
                t = starts[k] + (t - starts[k]) % period if runs else max(t, starts[k])
                first[k] = t
        else:
            nxt = frame_start[k0 + 1 : k1 + 1]
            first[k0 + 1 : k1 + 1] = nxt + (t - nxt) % period if runs else np.maximum(t, nxt)
            t = int(first[k1])
    count = np.where(running, (first[1:] - first[:-1]) // step, 0)
    return Schedule(frame_start, first[:-1], count, step)


def _steps_before(sch: Schedule) -> IntArray:
    return np.cumsum(sch.count) - sch.count


def level_events(
    sch: Schedule,
    level_at: Callable[[IntArray, IntArray], np.ndarray],
    start_pos: int = 0,
    frame_mask: npt.NDArray[np.bool_] | None = None,
) -> LevelEvents:
    """The level at each frame start and after each step.

    `level_at(position, frame)` gives the level for sequencer positions (steps taken so far,
    plus `start_pos`) in the given frames. Steps are listed only in frames where `frame_mask`
    holds (default: all); elsewhere the level must not change within the frame.
    """
    per_frame = 1 + (sch.count if frame_mask is None else np.where(frame_mask, sch.count, 0))
    frame = np.repeat(np.arange(len(sch.count)), per_frame)
    ev_first = np.cumsum(per_frame) - per_frame
    j = np.arange(len(frame), dtype=np.int64) - ev_first[frame]
    cycle = np.where(j == 0, sch.frame_start[frame], sch.first[frame] + (j - 1) * sch.step[frame])
    position = start_pos + _steps_before(sch)[frame] + j
    return LevelEvents(cycle, level_at(position, frame))


def duty_edges(
    frames: VoiceFrames, frame_start: IntArray, pattern: IntArray
) -> tuple[IntArray, IntArray]:
    """Level changes of a duty-sequence voice: (CPU cycles, level deltas), in no particular order.

    `pattern` (int64, shape (num_duties, num_steps)) holds 0/1 per sequencer step. Only the
    steps where the pattern changes are generated (two per wave), plus one event per frame start
    for volume and duty changes, so the cost follows the number of edges, not of steps.
    """
    num_steps = pattern.shape[1]
    volume = frames.volume
    duty = frames.duty % len(pattern)
    sch = schedule(frame_start, frames.period, np.ones(len(volume), dtype=bool))
    sb = _steps_before(sch)
    # Step i of frame k moves the sequencer to position sb[k] + i + 1.
    edge_pos, valid = _edge_positions(pattern)
    r = edge_pos[duty]  # (num_frames, max_edges)
    i0 = (r - 1 - sb[:, None]) % num_steps
    n = sch.count[:, None]
    count = np.where(valid[duty] & (n > i0), (n - i0 + num_steps - 1) // num_steps, 0).ravel()
    frame = np.repeat(np.repeat(np.arange(len(volume)), r.shape[1]), count)
    q = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    i = np.repeat(i0.ravel(), count) + num_steps * q
    pos = sb[frame] + i + 1
    d = duty[frame]
    step_delta = (pattern[d, pos % num_steps] - pattern[d, (pos - 1) % num_steps]) * volume[frame]
    at_start = pattern[duty, sb % num_steps] * volume
    before = np.concatenate([[0], pattern[duty[:-1], sb[1:] % num_steps] * volume[:-1]])
    cycle = np.concatenate([sch.frame_start[:-1], sch.first[frame] + i * sch.step[frame]])
    delta = np.concatenate([at_start - before, step_delta])
    keep = delta != 0
    return cycle[keep], delta[keep]


def _edge_positions(pattern: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Positions p where pattern[d, p] != pattern[d, p − 1], padded: (positions, valid mask)."""
    edges = [np.flatnonzero(row != np.roll(row, 1)) for row in pattern]
    width = max(1, max(len(e) for e in edges))
    pos = np.zeros((len(pattern), width), dtype=np.int64)
    valid = np.zeros((len(pattern), width), dtype=bool)
    for d, e in enumerate(edges):
        pos[d, : len(e)] = e
        valid[d, : len(e)] = True
    return pos, valid


def pulse_edges(frames: VoiceFrames, frame_start: IntArray) -> tuple[IntArray, IntArray]:
    """2A03 pulse: 8-step duty sequence × 4-bit volume, stepping every 2 (t + 1) cycles.

    Periods below 8 are muted by the sweep unit.
    """
    muted = frames.period < tables.PULSE_PERIOD_MIN
    stepped = replace(
        frames, period=2 * (frames.period + 1), volume=np.where(muted, 0, frames.volume)
    )
    return duty_edges(stepped, frame_start, np.array(tables.PULSE_DUTY, dtype=np.int64))


def vrc6_pulse_edges(frames: VoiceFrames, frame_start: IntArray) -> tuple[IntArray, IntArray]:
    """VRC6 pulse: 16-step sequence, high for duty + 1 steps (8 duty levels), every F + 1 cycles."""
    stepped = replace(frames, period=frames.period + 1)
    return duty_edges(stepped, frame_start, vrc6.PULSE_DUTY)


def triangle_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """2A03 triangle: 32-step sequence, advancing only while it sounds, holding its level."""
    steps = np.array(tables.TRIANGLE_STEPS, dtype=np.int64)
    period = np.maximum(frames.period, 2)  # t < 2 is ultrasonic; drivers never use it
    sch = schedule(frame_start, period + 1, frames.volume > 0)

    def level_at(pos: IntArray, frame: IntArray) -> IntArray:
        return steps[pos & 31]

    return level_events(sch, level_at, tables.TRIANGLE_START_STEP)


def saw_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """VRC6 sawtooth: a 7-step accumulator ramp clocked every 2 (F + 1) cycles."""
    sch = schedule(frame_start, 2 * (frames.period + 1), np.ones(len(frames.volume), dtype=bool))
    return level_events(sch, vrc6.saw_level_at(frames))


def changes(
    events: LevelEvents, values: npt.NDArray[np.floating]
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Where the mapped output `values` (one per event) changes: (cycles, deltas from 0)."""
    delta = np.diff(values.astype(np.float64, copy=False), prepend=0.0)
    keep = delta != 0
    return events.cycle[keep], delta[keep]
