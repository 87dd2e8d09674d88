"""Band-limited steps: level changes at exact fractional sample times, free of aliasing.

A step of height Δ at time τ (in samples) adds Δ · (S(n − τ) − S(n − 1 − τ)) to sample n, where
S is a Kaiser-windowed sinc integrated into a step (0 before −W, 1 after +W). The increments of
all steps are accumulated with `np.bincount` and integrated once (a cumsum, or fused into the
output filter's first high-pass), so the cost
per step is a fixed number of taps whatever the source clock (Blargg's blip_buf approach).
The table holds `num_phases` fractional positions; τ uses the nearest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Kernel:
    """Design of the step kernel: half-width in samples, cutoff (fraction of the sample rate),
    Kaiser β and number of fractional phases."""

    half_width: int = 6
    cutoff: float = 0.45
    beta: float = 9.0
    num_phases: int = 8192

    @property
    def num_taps(self) -> int:
        return 2 * self.half_width + 1


CLEAN = Kernel()


@cache
def step_table(kernel: Kernel) -> npt.NDArray[np.float64]:
    """Increment rows: float64, shape (num_phases + 1, num_taps); each row sums to exactly 1.

    Row p holds the increments at offsets −W + 1 … W + 1 from ⌊τ⌋ for a step at frac(τ) = p/P.
    """
    w, num_p = kernel.half_width, kernel.num_phases
    fine = 8  # integration points per phase
    x = np.linspace(-w, w, 2 * w * num_p * fine + 1)
    impulse = 2 * kernel.cutoff * np.sinc(2 * kernel.cutoff * x)
    impulse *= np.kaiser(len(x), kernel.beta)
    step = np.concatenate([[0.0], np.cumsum((impulse[1:] + impulse[:-1]) / 2)])
    step = step[::fine] / step[-1]  # S on a grid of 1/P samples from −W to +W
    # S(x) for x = o − p/P at every needed offset o, padded with 0 before −W and 1 after +W.
    grid = np.concatenate([np.zeros(num_p), step, np.ones(2 * num_p)])
    offsets = np.arange(-w, w + 2)  # o − 1 and o for o = −W + 1 … W + 1
    phase = np.arange(num_p + 1)
    pos = (offsets[None, :] + w + 1) * num_p - phase[:, None]
    s = grid[pos]
    return np.diff(s, axis=1)


Steps = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
Impulses = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
CHUNK_STEPS = 4096  # steps per scatter; keeps the working set of a chunk in cache
BLOCK_SAMPLES = 1 << 16  # output is produced in blocks of this many samples
MAX_TAPS = 64


@dataclass(frozen=True)
class _Source:
    """Events to scatter: each adds `rows(chunk)` (shape (n, taps)) at buffer index `start`."""

    start: npt.NDArray[np.int64]  # ascending
    rows: Callable[[slice], npt.NDArray[np.float64]]


def increment_blocks(
    steps: list[Steps],
    num_samples: int,
    kernel: Kernel = CLEAN,
    box: list[Steps] | None = None,
    impulses: list[Impulses] | None = None,
    block_samples: int = BLOCK_SAMPLES,
) -> Iterator[npt.NDArray[np.float64]]:
    """The first difference of the output, in consecutive float64 blocks.

    Their concatenation `incr` has num_samples + 4 W + 4 entries, and sample n of the output is
    `np.cumsum(incr)[n + W]` (W = `kernel.half_width`). Each entry of `steps` is (times,
    heights): float64 step times in samples (sample n is at time n), ascending, each ≥ −1,
    placed as band-limited steps. `box` steps are area-sampled instead: sample n gets the part
    of a step that falls in [n − ½, n + ½). `impulses` (sample indices, ascending; values) add a
    value to one sample each. Anything after the end is ignored. Working in blocks keeps the
    memory small and the passes in cache.
    """
    size = num_samples + 4 * kernel.half_width + 4
    sources = _sources(steps, num_samples, kernel, box or [], impulses or [])
    carry = np.zeros(MAX_TAPS)
    for lo in range(0, size, block_samples):
        hi = min(lo + block_samples, size)
        buf = np.zeros(hi - lo + MAX_TAPS)
        buf[:MAX_TAPS] += carry
        for source in sources:
            a, b = np.searchsorted(source.start, [lo, hi])
            _scatter(buf, source.start, lo, source.rows, int(a), int(b))
        carry = buf[hi - lo :]
        yield buf[: hi - lo]


def _sources(
    steps: list[Steps],
    num_samples: int,
    kernel: Kernel,
    box: list[Steps],
    impulses: list[Impulses],
) -> list[_Source]:
    w = kernel.half_width
    table = step_table(kernel)
    sources = []
    for tau, delta in steps:
        keep = tau < num_samples + w
        tau, delta = tau[keep], delta[keep]
        whole = np.floor(tau)
        row = np.rint((tau - whole) * kernel.num_phases).astype(np.int64)
        # The first tap is at sample ⌊τ⌋ − W + 1, i.e. index ⌊τ⌋ + 1 of a buffer padded by W.
        rows = partial(_kernel_rows, table, row, delta)
        sources.append(_Source(whole.astype(np.int64) + 1, rows))
    for tau, delta in box:
        keep = tau < num_samples
        tau, delta = tau[keep], delta[keep]
        whole = np.floor(tau + 0.5)
        part = whole + 0.5 - tau  # share of sample ⌊τ + ½⌋ after the step
        both = np.stack([delta * part, delta * (1.0 - part)], axis=1)
        sources.append(_Source(whole.astype(np.int64) + w, both.__getitem__))
    for index, value in impulses:
        keep = index < num_samples
        both = np.stack([value[keep], -value[keep]], axis=1)
        sources.append(_Source(index[keep] + w, both.__getitem__))
    return sources


def synthesize(
    steps: list[Steps],
    num_samples: int,
    kernel: Kernel = CLEAN,
    box: list[Steps] | None = None,
    impulses: list[Impulses] | None = None,
) -> npt.NDArray[np.float64]:
    """The output itself, from level 0: float64, shape (num_samples,) (see `increment_blocks`)."""
    incr = np.concatenate(list(increment_blocks(steps, num_samples, kernel, box, impulses)))
    w = kernel.half_width
    return np.cumsum(incr)[w : w + num_samples]


def _kernel_rows(
    table: npt.NDArray[np.float64],
    row: npt.NDArray[np.int64],
    delta: npt.NDArray[np.float64],
    chunk: slice,
) -> npt.NDArray[np.float64]:
    return table[row[chunk]] * delta[chunk, None]


def _scatter(
    buf: npt.NDArray[np.float64],
    start: npt.NDArray[np.int64],
    base: int,
    rows: Callable[[slice], npt.NDArray[np.float64]],
    first_event: int,
    stop_event: int,
) -> None:
    """Add `rows(chunk)` at `buf[start[i] − base:][:taps]` for events first_event..stop_event.

    `start` is ascending, so each chunk of events touches a short span of `buf`.
    """
    for a in range(first_event, stop_event, CHUNK_STEPS):
        chunk = slice(a, min(a + CHUNK_STEPS, stop_event))
        weights = rows(chunk)
        first = start[chunk] - base
        lo, hi = int(first[0]), int(first[-1]) + weights.shape[1]
        idx = (first - lo)[:, None] + np.arange(weights.shape[1])
        buf[lo:hi] += np.bincount(idx.ravel(), weights.ravel(), minlength=hi - lo)
