"""Yang & Lerch (2018/2020) sample-quality metric: per-feature overlapping area of distance KDEs.

For each piece, nine features (after mgeval): pitch count, pitch-class histogram, pitch-class
transition matrix, pitch range, average pitch interval, note count, average inter-onset interval,
note-length histogram, note-length transition matrix. For a reference set R and a compared set
C, the intra-set distances (Euclidean, every pair of R) and the inter-set distances (every R x C
pair) are smoothed by Gaussian KDEs; the overlapping area (OA) of the two densities is 1 when C
looks like R, 0 when it does not. Times are in quarter notes, so tempo does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.score import Song

FEATURES = (
    "pitch_count", "pitch_class_histogram", "pitch_class_transition_matrix", "pitch_range",
    "avg_pitch_interval", "note_count", "avg_ioi", "note_length_histogram",
    "note_length_transition_matrix",
)  # fmt: skip
# mgeval's 12 note-length classes in quarter notes: whole..16th, dotted, triplet.
LENGTH_CLASSES = np.array([4, 2, 1, 0.5, 0.25, 6, 3, 1.5, 0.75, 4 / 3, 2 / 3, 1 / 3])
GRID_POINTS = 1000


@dataclass(frozen=True)
class Piece:
    """A piece's pitched notes: onset and length in quarter notes, MIDI pitch, sorted by onset."""

    onset_qn: npt.NDArray[np.float64]
    length_qn: npt.NDArray[np.float64]
    pitch: npt.NDArray[np.int64]


def piece_from_song(song: Song, max_qn: float | None = None) -> Piece:
    """The pitched notes of `song` from its first note, cut to `max_qn` quarter notes."""
    notes = sorted((n.start_tick, n.pitch, n.end_tick) for n in song.notes if not n.is_drum)
    if not notes:
        return Piece(np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    arr = np.array(notes, dtype=np.float64)
    onset = (arr[:, 0] - arr[0, 0]) / song.ticks_per_beat
    length = (arr[:, 2] - arr[:, 0]) / song.ticks_per_beat
    keep = onset < max_qn if max_qn is not None else np.ones(onset.size, bool)
    return Piece(onset[keep], length[keep], arr[keep, 1].astype(np.int64))


def features(piece: Piece) -> dict[str, npt.NDArray[np.float64]]:
    """The nine features of one piece, each a float64 vector (matrices flattened)."""
    pitch, onset = piece.pitch, piece.onset_qn
    classes = np.argmin(np.abs(piece.length_qn[:, None] - LENGTH_CLASSES[None, :]), axis=1)
    pcs = pitch % 12
    onsets = np.unique(onset)
    return {
        "pitch_count": np.array([np.unique(pitch).size], float),
        "pitch_class_histogram": _normalised(np.bincount(pcs, minlength=12)),
        "pitch_class_transition_matrix": _transitions(pcs, 12),
        "pitch_range": np.array([np.ptp(pitch) if pitch.size else 0], float),
        "avg_pitch_interval": np.array([np.abs(np.diff(pitch)).mean() if pitch.size > 1 else 0]),
        "note_count": np.array([pitch.size], float),
        "avg_ioi": np.array([np.diff(onsets).mean() if onsets.size > 1 else 0]),
        "note_length_histogram": _normalised(np.bincount(classes, minlength=12)),
        "note_length_transition_matrix": _transitions(classes, 12),
    }


def _normalised(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def _transitions(seq: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.float64]:
    matrix = np.zeros((size, size))
    np.add.at(matrix, (seq[:-1], seq[1:]), 1)
    total = matrix.sum()
    return (matrix / total if total else matrix).ravel()


def overlap_area(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Overlapping area of the Gaussian KDEs of samples `a` and `b` (1 = same, 0 = disjoint)."""
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    pad = 0.25 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, GRID_POINTS)
    densities = [_kde(x)(grid) for x in (a, b)]
    return float(np.trapezoid(np.minimum(*densities), grid))


def _kde(x: npt.NDArray[np.float64]) -> Callable[[npt.NDArray[np.float64]], np.ndarray]:
    """Gaussian KDE of `x` with Scott's bandwidth (scipy's gaussian_kde default)."""
    spread = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    if spread == 0:  # a constant sample: a narrow bump instead of a point
        spread = 1e-3 * max(1.0, abs(float(x[0])))
    bandwidth = spread * x.size ** (-1 / 5)

    def density(grid: npt.NDArray[np.float64]) -> np.ndarray:
        z = (grid[:, None] - x[None, :]) / bandwidth
        return np.exp(-0.5 * z * z).mean(axis=1) / (bandwidth * np.sqrt(2 * np.pi))

    return density


def mean_overlap(reference: Sequence[Piece], compared: Sequence[Piece]) -> dict[str, float]:
    """Per-feature OA of intra-set(reference) vs inter-set(reference, compared), and the mean."""
    ref = [features(p) for p in reference]
    other = [features(p) for p in compared]
    result = {}
    for name in FEATURES:
        r = np.array([f[name] for f in ref])
        c = np.array([f[name] for f in other])
        intra = np.linalg.norm(r[:, None] - r[None, :], axis=-1)[np.triu_indices(len(r), 1)]
        inter = np.linalg.norm(r[:, None] - c[None, :], axis=-1).ravel()
        result[name] = overlap_area(intra, inter)
    result["mean"] = float(np.mean([result[n] for n in FEATURES]))
    return result


def random_pieces(num: int, length_qn: float, notes_per_qn: float, seed: int) -> list[Piece]:
    """The floor: notes at random 16th onsets, random pitches 36..95, random lengths."""
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(num):
        count = max(2, int(rng.poisson(notes_per_qn * length_qn)))
        onset = np.sort(rng.integers(0, int(length_qn * 4), count)) / 4.0
        length = rng.integers(1, 17, count) / 4.0
        pieces.append(Piece(onset, length, rng.integers(36, 96, count)))
    return pieces
