"""How audible a loop's seam is: the model's surprise across it, and the sound's change at it.

`token_seam` runs a model over a piece followed by the bar the loop returns to and compares the
negative log-likelihood per token of that bar (played after the end: the seam) with the mean
inside the piece; 1.0 means the seam is as expected as any other bar. `audio_seam` compares the
spectral change from the loop's last frame to its first frame with the change across the bar
lines inside the loop; 1.0 again means the seam sounds like any bar line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline.encoding import chipvoice as cv
from chipline.encoding import polyphony
from chipline.errors import RenderError
from chipline.model.infer import NumpyLSTM

FRAME_SAMPLES = 2048  # ~46 ms at 44.1 kHz: one spectrum on each side of a boundary
NUM_BANDS = 24  # log-spaced bands: phase and leakage of steady tones do not count as change


@dataclass(frozen=True)
class Seam:
    seam: float  # the quantity at the loop point
    inside: float  # its typical value inside the piece

    @property
    def ratio(self) -> float:
        return self.seam / self.inside if self.inside else float("inf")


def wrapped_nll(
    model: NumpyLSTM, piece: list[int], follow: list[int], inside_from: int, skip: int
) -> Seam:
    """Mean NLL (nats) of `follow[skip:]` fed after `piece`, and of `piece[inside_from:]`."""
    seq = np.array([*piece, *follow], dtype=np.int64)
    logits = model.forward(seq[None, :-1])[0].astype(np.float64)  # (T - 1, V)
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -logp[np.arange(seq.size - 1), seq[1:]]  # nll[i]: token i + 1 given the ones before
    inside = nll[inside_from - 1 : len(piece) - 1]
    seam = nll[len(piece) - 1 + skip :]
    return Seam(float(seam.mean()), float(inside.mean()))


def chipvoice_token_seam(model: NumpyLSTM, tokens: npt.ArrayLike) -> Seam:
    """The seam of a chip-voice piece: its loop bar (LOOP_START's, else the first; empty bars
    run on to the next note) in END's place; inside is every body token after the first bar.
    The seam's opening BAR is not scored."""
    seq = [int(t) for t in np.asarray(tokens)]
    bars = [i for i, t in enumerate(seq) if t == cv.BAR]
    loop_bar = next((k for k, i in enumerate(bars) if seq[i + 1] == cv.LOOP_START), 0)
    inside_from = bars[1] + 1 if len(bars) > 1 else len(seq) - 1
    bars.append(len(seq) - 1)  # END closes the last bar
    stop = loop_bar + 1
    while stop < len(bars) - 1 and bars[stop] - bars[stop - 1] <= 2:  # an empty bar: go on
        stop += 1
    follow = [t for t in seq[bars[loop_bar] : bars[stop]] if t != cv.LOOP_START]
    piece = seq[:-1]
    return wrapped_nll(model, piece, follow, inside_from, skip=1)


def polyphony_token_seam(model: NumpyLSTM, tokens: npt.ArrayLike, steps_per_bar: int = 16) -> Seam:
    """The seam of a polyphony piece cut at a bar line: its first bar played after its end."""
    seq = [int(t) for t in np.asarray(tokens)]
    ends = [i for i, t in enumerate(seq) if t == polyphony.STEP_END]
    first_bar = seq[1 : ends[steps_per_bar - 1] + 1]
    return wrapped_nll(model, seq[:-1], first_bar, len(first_bar) + 1, skip=0)


def audio_seam(
    audio: npt.NDArray[np.float32], loop_start: int, loop_length: int, bar_samples: float
) -> Seam:
    """Spectral change (half the L1 distance of normalised band energies, 0..1) from the
    loop's last frame to its first, and the median of the same across the bar lines inside.

    `audio`: float, shape (num_samples,) or (num_samples, channels); positions in samples.
    """
    mono = np.asarray(audio, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    end = loop_start + loop_length
    seam = _change(mono[end - FRAME_SAMPLES : end], mono[loop_start : loop_start + FRAME_SAMPLES])
    lines = np.arange(loop_start + bar_samples, end - FRAME_SAMPLES, bar_samples).round()
    inside = [_change(mono[t - FRAME_SAMPLES : t], mono[t : t + FRAME_SAMPLES])
              for t in lines.astype(int)]  # fmt: skip
    return Seam(seam, float(np.median(inside)) if inside else float("nan"))


def _change(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    shapes = [_bands(x) for x in (a, b)]
    return float(0.5 * np.abs(shapes[0] - shapes[1]).sum())


def _bands(frame: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Energy in NUM_BANDS log-spaced bands (86 Hz .. 16 kHz at 44.1 kHz), summing to 1."""
    power = np.abs(np.fft.rfft(frame * np.hanning(frame.size))) ** 2
    edges = np.geomspace(4, power.size * 0.72, NUM_BANDS + 1).astype(int)
    energy = np.add.reduceat(power, edges[:-1])[:NUM_BANDS]
    return energy / max(float(energy.sum()), 1e-12)


def ogg_loop_points(path: Path) -> tuple[int, int]:
    """(LOOPSTART, LOOPLENGTH) in samples from an OGG's Vorbis comments.

    Raises:
        RenderError: the file has no loop comments.
    """
    head = Path(path).read_bytes()[:65536]
    start = re.search(rb"LOOPSTART=(\d+)", head)
    length = re.search(rb"LOOPLENGTH=(\d+)", head)
    if start is None or length is None:
        raise RenderError(f"{path}: no LOOPSTART/LOOPLENGTH comments; render it with a loop")
    return int(start.group(1)), int(length.group(1))
