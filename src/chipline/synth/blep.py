"""Band-limited steps: level changes at exact fractional sample times, free of aliasing.

A step of height Δ at time τ (in samples) adds Δ · (S(n − τ) − S(n − 1 − τ)) to sample n, where
S is a Kaiser-windowed sinc integrated into a step (0 before −W, 1 after +W). The increments of
all steps are accumulated with `np.bincount` and integrated with one `np.cumsum`, so the cost
per step is a fixed number of taps whatever the source clock (Blargg's blip_buf approach).
The table holds `num_phases` fractional positions; τ uses the nearest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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
CHUNK_STEPS = 4096  # steps per scatter; keeps the working set of a chunk in cache


def synthesize(
    steps: list[Steps], num_samples: int, kernel: Kernel = CLEAN, box: Steps | None = None
) -> npt.NDArray[np.float64]:
    """Sum of band-limited steps (and box steps): float64, shape (num_samples,), from level 0.

    Each entry of `steps` is (times, heights): float64 step times in samples (sample n is at
    time n), ascending, each ≥ −1. `box` steps are area-sampled instead: sample n gets the part
    of a step that falls in [n − ½, n + ½). Steps after the end are ignored.
    """
    w = kernel.half_width
    size = num_samples + 4 * w + 4
    incr = np.zeros(size)
    for tau, delta in steps:
        _add_blep_increments(incr, tau, delta, num_samples, kernel)
    if box is not None:
        incr += _box_increments(box[0], box[1], num_samples, w, size)
    return np.cumsum(incr)[w : w + num_samples]


def _add_blep_increments(
    incr: npt.NDArray[np.float64],
    tau: npt.NDArray[np.float64],
    delta: npt.NDArray[np.float64],
    num_samples: int,
    kernel: Kernel,
) -> None:
    """Add the kernel rows of ascending steps `tau` into `incr`, a chunk at a time."""
    table = step_table(kernel)
    keep = tau < num_samples + kernel.half_width
    tau, delta = tau[keep], delta[keep]
    whole = np.floor(tau)
    row = np.rint((tau - whole) * kernel.num_phases).astype(np.int64)
    # The first tap is at sample ⌊τ⌋ − W + 1, i.e. index ⌊τ⌋ + 1 of a buffer padded by W.
    start = whole.astype(np.int64) + 1
    taps = np.arange(kernel.num_taps)
    for a in range(0, len(tau), CHUNK_STEPS):
        first = start[a : a + CHUNK_STEPS]
        lo, hi = int(first[0]), int(first[-1]) + kernel.num_taps
        idx = (first - lo)[:, None] + taps
        weights = table[row[a : a + CHUNK_STEPS]] * delta[a : a + CHUNK_STEPS, None]
        incr[lo:hi] += np.bincount(idx.ravel(), weights.ravel(), minlength=hi - lo)


def _box_increments(
    tau: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    num_samples: int,
    pad: int,
    size: int,
) -> npt.NDArray[np.float64]:
    keep = tau < num_samples
    tau, d = tau[keep], d[keep]
    n0 = np.floor(tau + 0.5)
    part = n0 + 0.5 - tau  # share of sample n0 after the step
    idx = n0.astype(np.int64) + pad
    both = np.concatenate([idx, idx + 1])
    weights = np.concatenate([d * part, d * (1.0 - part)])
    return np.bincount(both, weights, minlength=size).astype(np.float64, copy=False)
