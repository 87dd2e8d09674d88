"""Timer scheduling against a frame-by-frame model of the divider."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chipline.synth import apu, tables


def reference_schedule(frame_start, step, running):
    """Frame by frame: the steps before the next frame start, the crossing one with this period."""
    first, count, t = [], [], int(frame_start[0])
    for k, period in enumerate(step.tolist()):
        nxt = int(frame_start[k + 1])
        first.append(t)
        n = max(0, -((t - nxt) // period)) if running[k] else 0
        count.append(n)
        t = t + n * period if running[k] else max(t, nxt)
    return first, count


@given(
    runs=st.lists(
        st.tuples(st.integers(1, 30), st.integers(1, 8192), st.booleans()), min_size=1, max_size=12
    )
)
def test_schedule_matches_the_frame_by_frame_model(runs):
    step = np.concatenate([np.full(n, p) for n, p, _ in runs]).astype(np.int64)
    running = np.concatenate([np.full(n, r) for n, _, r in runs])
    frame_start = apu.frame_starts(len(step), tables.REGIONS["ntsc"])
    sch = apu.schedule(frame_start, step, running)
    first, count = reference_schedule(frame_start, step, running)
    assert sch.first.tolist() == first
    assert sch.count.tolist() == count


def test_held_pulse_steps_every_period():
    step = np.full(10, 2 * (253 + 1), dtype=np.int64)
    frame_start = apu.frame_starts(10, tables.REGIONS["ntsc"])
    sch = apu.schedule(frame_start, step, np.ones(10, dtype=bool))
    times = np.concatenate([sch.first[k] + np.arange(sch.count[k]) * step[k] for k in range(10)])
    np.testing.assert_array_equal(np.diff(times), 508)
    assert times[0] == 0
    assert times[-1] < frame_start[-1] <= times[-1] + 508
