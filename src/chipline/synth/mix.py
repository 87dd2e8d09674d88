"""The 2A03 nonlinear mixer (NESdev "APU Mixer") and the level scale of the VRC6 voices."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Linear-approximation slopes from the NESdev page, used where a voice is mixed linearly.
PULSE_LINEAR = 0.00752
TRIANGLE_LINEAR = 0.00851
NOISE_LINEAR = 0.00494


def pulse_out(pulse_sum: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pulse group output for p1 + p2 in 0..30: 95.88 / (8128 / (p1 + p2) + 100), 0 at 0."""
    n = np.asarray(pulse_sum, dtype=np.float64)
    safe = np.where(n > 0, n, 1.0)
    return np.where(n > 0, 95.88 / (8128.0 / safe + 100.0), 0.0)


def tnd_out(
    triangle: npt.ArrayLike, noise: npt.ArrayLike = 0, dmc: npt.ArrayLike = 0
) -> npt.NDArray[np.float64]:
    """Triangle/noise/DMC group output: 159.79 / (1 / (t/8227 + n/12241 + d/22638) + 100)."""
    x = (
        np.asarray(triangle, dtype=np.float64) / 8227.0
        + np.asarray(noise, dtype=np.float64) / 12241.0
        + np.asarray(dmc, dtype=np.float64) / 22638.0
    )
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, 159.79 / (1.0 / safe + 100.0), 0.0)


# The VRC6 is mixed linearly, scaled so a VRC6 pulse at volume 15 is as loud as one 2A03 pulse
# at volume 15 (its real level depends on the cartridge's resistors); the saw's 5-bit output
# uses the same step size.
VRC6_STEP = float(pulse_out(15)) / 15.0

PULSE_TABLE = pulse_out(np.arange(31))  # float64, shape (31,): mixer output per p1 + p2
TRIANGLE_TABLE = tnd_out(np.arange(16))  # float64, shape (16,): triangle alone
NOISE_TABLE = tnd_out(0, np.arange(16))  # float64, shape (16,): noise alone
