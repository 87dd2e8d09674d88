"""Frame NLL: our event model scored on quarter-note piano rolls, as Boulanger-Lewandowski (2012).

A frame (the set of pitches sounding on a beat) is written as its pitches in descending order,
each a NEW_NOTE token, then STEP_END; a piece is START, its frames, END. The model's next-token
distribution is renormalised over the tokens that can follow in that order (a lower pitch or
STEP_END; never CONTINUED_NOTE, END or a pitch at or above the last one), so it is a proper
distribution over the 2^128 pitch sets of each frame given the earlier frames. A frame's
NLL is the sum of its tokens' NLLs; the benchmark figure is the total over all frames divided
by the number of frames, in nats, the same quantity as the published table's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from chipline.encoding import polyphony
from chipline.model.infer import NumpyLSTM

Frames = Sequence[Sequence[int]]  # per frame, the MIDI pitches sounding


def encode_frames(frames: Frames, transpose: int = 0) -> npt.NDArray[np.uint16]:
    """START, each frame's pitches descending as NEW_NOTE then STEP_END, END: uint16 (n,)."""
    tokens = [polyphony.START]
    for frame in frames:
        for pitch in sorted({int(p) + transpose for p in frame}, reverse=True):
            tokens.append(polyphony.new_note(pitch))
        tokens.append(polyphony.STEP_END)
    tokens.append(polyphony.END)
    return np.array(tokens, np.uint16)


def _allowed(tokens: npt.NDArray[np.uint16]) -> npt.NDArray[np.bool_]:
    """bool (n - 1, V): which tokens may follow each prefix tokens[:t + 1] inside a frame."""
    allowed = np.zeros((tokens.size - 1, polyphony.VOCAB_SIZE), bool)
    pitch_ids = np.arange(polyphony.NUM_PITCHES)
    for t, token in enumerate(tokens[:-1].tolist()):
        above = token - polyphony.NEW_NOTE_BASE if token >= polyphony.NEW_NOTE_BASE else 128
        allowed[t, polyphony.NEW_NOTE_BASE + pitch_ids[pitch_ids < above]] = True
        allowed[t, polyphony.STEP_END] = True
    return allowed


def piece_frame_nll(model: NumpyLSTM, frames: Frames) -> tuple[float, int]:
    """(total NLL in nats of the piece's frames, number of frames). END is not scored."""
    tokens = encode_frames(frames)
    logits = model.forward(tokens[None, :-1].astype(np.int64))[0].astype(np.float64)  # (n-1, V)
    logits = np.where(_allowed(tokens), logits, -np.inf)
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    targets = tokens[1:].astype(np.int64)
    token_nll = log_norm - logits[np.arange(targets.size), targets]
    scored = targets != polyphony.END
    return float(token_nll[scored].sum()), len(frames)


def frame_nll(model: NumpyLSTM, pieces: Sequence[Frames]) -> float:
    """Mean NLL per frame (nats) over all frames of `pieces`."""
    total, count = 0.0, 0
    for frames in pieces:
        nll, num = piece_frame_nll(model, frames)
        total, count = total + nll, count + num
    return total / max(count, 1)
