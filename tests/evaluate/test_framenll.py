"""Frame NLL on piano rolls: the encoding, the order mask and the per-frame normalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chipline.encoding import polyphony
from chipline.framenll import encode_frames, frame_nll, piece_frame_nll
from chipline.model.checkpoint import expected_shapes, model_config
from chipline.model.infer import NumpyLSTM


def _uniform_model() -> NumpyLSTM:
    """All weights zero: the same logit for every token, whatever came before."""
    config = model_config([8], polyphony.VOCAB_SIZE, dropout=0.0)
    return NumpyLSTM(
        config, {k: np.zeros(s, np.float32) for k, s in expected_shapes(config).items()}
    )


def test_encoding_is_descending_pitches_per_frame():
    tokens = encode_frames([[60, 64, 67], [], [62]], transpose=1).tolist()
    n = polyphony.new_note
    assert tokens == [
        polyphony.START,
        n(68),
        n(65),
        n(61),
        polyphony.STEP_END,
        polyphony.STEP_END,
        n(63),
        polyphony.STEP_END,
        polyphony.END,
    ]


def test_uniform_model_gives_the_closed_form():
    # After START or STEP_END: 128 pitches or STEP_END may follow; after pitch p, the p lower
    # pitches or STEP_END. A uniform model spreads each step evenly over what may follow.
    frames = [[60, 67], [], [72]]
    expected = (
        (math.log(129) + math.log(68) + math.log(61))
        + math.log(129)
        + (math.log(129) + math.log(73))
    )
    total, count = piece_frame_nll(_uniform_model(), frames)
    assert count == 3
    assert total == pytest.approx(expected, rel=1e-6)
    assert frame_nll(_uniform_model(), [frames, [[60]]]) == pytest.approx(
        (expected + math.log(129) + math.log(61)) / 4, rel=1e-6
    )


def test_every_frame_distribution_sums_to_one_on_a_small_range():
    # The uniform model restricted to pitch sets of {0, 1, 2}: summing exp(-NLL) over all 8
    # subsets, each divided by the probability of staying within the range, gives exactly 1
    # only if each set has one encoding and the mask is right.
    model = _uniform_model()
    subsets = [[p for p in range(3) if mask >> p & 1] for mask in range(8)]
    probs = [math.exp(-piece_frame_nll(model, [s])[0]) for s in subsets]
    first_step = 129  # what may follow START
    within = 4 / first_step  # start the frame with 0, 1, 2 or end it
    assert sum(probs) == pytest.approx(within, rel=1e-6)
