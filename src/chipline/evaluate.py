"""`chipline eval`: held-out NLL of a model, and Yang–Lerch sample quality against real pieces.

Both in numpy, for models of either codec. The NLL is the training loss's quantity (mean
cross-entropy per predicted token, END included, the first token given) over a dataset's eval
split of the model's codec; it is per token of that codec, so a polyphony and a chip-voice model
cannot be compared by it. Sample quality can: each model's pieces are decoded to notes and
compared with held-out real pieces of the same length (`chipline.yanglerch`); the number is
printed between a ceiling (half the real pieces against the other half) and a floor (random
notes), so it can be read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from chipline.dataset import load_dataset
from chipline.encoding import chipvoice as cv
from chipline.encoding import polyphony
from chipline.errors import ChiplineError, ConfigError
from chipline.generate import SampleConfig, is_magenta, load_generator, sample_songs
from chipline.generate.primer import Primer
from chipline.model.infer import NumpyLSTM
from chipline.score import quantize, read_midi
from chipline.yanglerch import Piece, mean_overlap, piece_from_song, random_pieces

BATCH_TOKENS = 32_768  # padded positions per forward batch


@dataclass(frozen=True)
class NllReport:
    nll_per_event: float  # nats
    perplexity: float
    num_events: int
    num_sequences: int


def load_scored_model(path: Path) -> NumpyLSTM:
    """A model of either codec: a model dir, a run dir, or a Magenta run dir or bundle."""
    from chipline.make_chipvoice import load_chipvoice_model, model_codec

    path = Path(path)
    if not is_magenta(path) and model_codec(path) == cv.CODEC_NAME:
        return load_chipvoice_model(path)
    return load_generator(path)


def dataset_nll(model: NumpyLSTM, dataset: Path, max_tokens: int = 0, seed: int = 0) -> NllReport:
    """NLL per event on the eval split of `dataset`; with `max_tokens`, on a seeded sample of
    whole sequences holding about that many tokens.

    Raises:
        ConfigError: the dataset is of another codec than the model, or its eval split is empty.
    """
    data = load_dataset(dataset)
    if data.meta["codec"] != model.codec:
        raise ConfigError(
            f"{dataset}: a {data.meta['codec']} dataset, but the model reads {model.codec} "
            f"tokens; ingest with `--codec {model.codec}` to score it"
        )
    seqs = data.eval
    order = np.arange(len(seqs))
    if max_tokens:
        order = np.random.default_rng(seed).permutation(len(seqs))
        cum = np.cumsum(seqs.lengths[order])
        order = np.sort(order[: int(np.searchsorted(cum, max_tokens)) + 1])
    if order.size == 0:
        raise ConfigError(f"{dataset}: the eval split is empty; nothing to score")
    total, count = 0.0, 0
    for batch in _batches(seqs.lengths[order], order):
        nll, num = _batch_nll(model, [seqs[int(i)] for i in batch])
        total, count = total + nll, count + num
    loss = total / count
    return NllReport(loss, math.exp(min(loss, 50.0)), count, int(order.size))


def _batches(lengths: np.ndarray, index: np.ndarray) -> list[np.ndarray]:
    """Sequences of similar length together, up to BATCH_TOKENS padded positions a batch."""
    ranked = index[np.argsort(lengths, kind="stable")]
    sizes = np.sort(lengths)
    out, start = [], 0
    while start < ranked.size:
        stop = start + 1
        while stop < ranked.size and (stop - start + 1) * sizes[stop] <= BATCH_TOKENS:
            stop += 1
        out.append(ranked[start:stop])
        start = stop
    return out


def _batch_nll(model: NumpyLSTM, seqs: Sequence[np.ndarray]) -> tuple[float, int]:
    width = max(s.size for s in seqs) - 1
    inputs = np.zeros((len(seqs), width), np.int64)
    targets = np.full((len(seqs), width), -1, np.int64)
    for row, seq in enumerate(seqs):
        inputs[row, : seq.size - 1] = seq[:-1]
        targets[row, : seq.size - 1] = seq[1:]
    logits = model.forward(inputs).astype(np.float64)  # (B, T, V)
    mask = targets >= 0
    picked = logits[mask]  # (N, V)
    top = picked.max(axis=1)
    log_norm = top + np.log(np.exp(picked - top[:, None]).sum(axis=1))
    nll = log_norm - picked[np.arange(picked.shape[0]), targets[mask]]
    return float(nll.sum()), int(mask.sum())


def real_pieces(
    paths: Sequence[Path], num_steps: int, limit: int = 0, seed: int = 0
) -> list[Piece]:
    """Held-out real pieces, quantised to 16ths and cut to `num_steps` from the first note;
    files that cannot be read or hold no pitched notes are left out. With `limit`, a seeded
    sample of that many files."""
    if limit:
        chosen = np.random.default_rng(seed).permutation(len(paths))[:limit]
        paths = [paths[i] for i in sorted(chosen.tolist())]
    pieces = []
    for path in paths:
        try:
            song = quantize(read_midi(path), polyphony.STEPS_PER_QUARTER)
        except ChiplineError:
            continue
        piece = piece_from_song(song, num_steps / polyphony.STEPS_PER_QUARTER)
        if piece.pitch.size >= 2:
            pieces.append(piece)
    return pieces


def generated_pieces(
    model: NumpyLSTM, num: int, num_steps: int, seed: int, temperature: float = 1.0,
    pitch_temperature: float | None = None,
) -> list[Piece]:  # fmt: skip
    """`num` samples of `num_steps` 16th steps from the model's own distribution (at
    `temperature`; 1 is the distribution itself, `chipline make` samples at 0.9), the notes'
    pitches at `pitch_temperature` (None: the temperature).

    A polyphony model starts unprimed. A chip-voice model draws its header (chip, key, meter,
    tempo, length of at least the steps, density, voice count) itself and is sampled with no
    key bias and no loop search; its noise voice is left out like any drum.
    """
    if model.codec == cv.CODEC_NAME:
        return _chipvoice_pieces(model, num, num_steps, seed, temperature, pitch_temperature)
    cfg = SampleConfig(num_outputs=num, num_steps=num_steps, seed=seed, temperature=temperature,
                       pitch_temperature=pitch_temperature)  # fmt: skip
    songs = sample_songs(model, cfg, Primer())
    return [piece_from_song(s, num_steps / polyphony.STEPS_PER_QUARTER) for s in songs]


def _chipvoice_pieces(
    model: NumpyLSTM, num: int, num_steps: int, seed: int, temperature: float,
    pitch_temperature: float | None,
) -> list[Piece]:  # fmt: skip
    from chipline.arrange import to_song
    from chipline.generate.chipvoice import generate, model_controls
    from chipline.make import MAKE_RENDER
    from chipline.make_chipvoice import delivered_score

    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(num):
        controls = replace(model_controls(model, rng, num_steps), temperature=temperature,
                           pitch_temperature=pitch_temperature)  # fmt: skip
        (tokens,) = generate(model, controls, 1, rng)
        song = to_song(delivered_score(cv.decode(tokens), controls.qpm, MAKE_RENDER))
        pieces.append(piece_from_song(song, num_steps / cv.STEPS_PER_QUARTER))
    return pieces


def sample_quality(
    reference: Sequence[Piece], generated: Sequence[Piece], seed: int = 0
) -> dict[str, dict[str, float]]:
    """Mean OA (and per feature) of the model, the real-vs-real ceiling and the random floor.

    The real pieces are split in two halves (seeded): half A is the reference of all three rows,
    half B is the ceiling's compared set; the model's and the floor's sets are as large as B.
    """
    if len(reference) < 4:
        raise ConfigError(f"only {len(reference)} real pieces; need at least 4 to compare")
    order = np.random.default_rng(seed).permutation(len(reference))
    half = len(order) // 2
    ref = [reference[i] for i in order[:half]]
    other = [reference[i] for i in order[half : 2 * half]]
    length_qn = max(float(p.onset_qn.max() + p.length_qn[-1]) for p in ref)
    density = float(np.mean([p.pitch.size for p in ref])) / max(length_qn, 1e-9)
    floor = random_pieces(len(other), length_qn, density, seed)
    return {
        "ceiling": mean_overlap(ref, other),
        "model": mean_overlap(ref, list(generated)[: len(other)]),
        "floor": mean_overlap(ref, floor),
    }
