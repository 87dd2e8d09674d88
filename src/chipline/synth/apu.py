"""Timer-exact sequencers: every change of a voice's output level at its CPU-clock time.

Each voice's timer runs with the period set for the current frame; a period change takes
effect at the next timer reload, as on the chip. The result is the voice's DAC level as a
piecewise-constant function of time (`LevelEvents`), which `blep` turns into samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.synth import tables, vrc6
from chipline.synth.driver import VoiceFrames

IntArray = npt.NDArray[np.int64]


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
    """
    starts = frame_start.tolist()
    periods = step.tolist()
    runs = running.tolist()
    first = [0] * len(periods)
    count = [0] * len(periods)
    t = starts[0]
    for k, period in enumerate(periods):
        nxt = starts[k + 1]
        first[k] = t
        if runs[k]:
            n = max(0, -((t - nxt) // period))  # steps before the next frame starts
            count[k] = n
            t += n * period
        else:
            t = max(t, nxt)
    return Schedule(frame_start, np.array(first), np.array(count), step)


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


def pulse_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """2A03 pulse: 8-step duty sequence × 4-bit volume; periods below 8 are muted."""
    duty = np.array(tables.PULSE_DUTY, dtype=np.int64)
    volume = np.where(frames.period >= tables.PULSE_PERIOD_MIN, frames.volume, 0)
    sch = schedule(frame_start, 2 * (frames.period + 1), np.ones(len(volume), dtype=bool))

    def level_at(pos: IntArray, frame: IntArray) -> IntArray:
        return duty[frames.duty[frame] & 3, pos & 7] * volume[frame]

    return level_events(sch, level_at)


def triangle_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """2A03 triangle: 32-step sequence, advancing only while it sounds, holding its level."""
    steps = np.array(tables.TRIANGLE_STEPS, dtype=np.int64)
    period = np.maximum(frames.period, 2)  # t < 2 is ultrasonic; drivers never use it
    sch = schedule(frame_start, period + 1, frames.volume > 0)

    def level_at(pos: IntArray, frame: IntArray) -> IntArray:
        return steps[pos & 31]

    return level_events(sch, level_at, tables.TRIANGLE_START_STEP)


def vrc6_pulse_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """VRC6 pulse: 16-step sequence, high for duty + 1 steps (8 duty levels) × 4-bit volume."""
    sch = schedule(frame_start, frames.period + 1, np.ones(len(frames.volume), dtype=bool))
    return level_events(sch, vrc6.pulse_level_at(frames))


def saw_events(frames: VoiceFrames, frame_start: IntArray) -> LevelEvents:
    """VRC6 sawtooth: a 7-step accumulator ramp clocked every 2 (F + 1) cycles."""
    sch = schedule(frame_start, 2 * (frames.period + 1), np.ones(len(frames.volume), dtype=bool))
    return level_events(sch, vrc6.saw_level_at(frames))


EVENT_MAKERS: dict[str, Callable[[VoiceFrames, IntArray], LevelEvents]] = {
    "pulse": pulse_events,
    "triangle": triangle_events,
    "vrc6_pulse": vrc6_pulse_events,
    "saw": saw_events,
}


def changes(
    events: LevelEvents, values: npt.NDArray[np.floating]
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Where the mapped output `values` (one per event) changes: (cycles, deltas from 0)."""
    delta = np.diff(values.astype(np.float64, copy=False), prepend=0.0)
    keep = delta != 0
    return events.cycle[keep], delta[keep]
