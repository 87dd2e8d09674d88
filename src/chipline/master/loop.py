"""Loop assembly: cut a render on the loop end and wrap the ringing tail into the loop start.

A back end renders the piece plus a tail (notes and filters ringing past the last bar). With
looping on, the file ends exactly on the bar line `end_tick` and the tail is added into the loop
body from its start, so a player that jumps from the last sample back to the loop start hears
what a continuous performance of the loop would play. With an intro (`loop_start_tick > 0`) the
back end plays the intro and the body twice (`performance`), and the file is the intro followed
by the second body, which already carries the first body's tail (and a stateful chip is in its
steady state): the seam is exact, and only the single intro-to-body step of the first pass drops
whatever of the intro rings past it. With looping off the natural tail is kept, trimmed once it
falls silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipScore
from chipline.score import Tempo, TimeSignature

TAIL_SEC = 2.0  # how long past the end a back end renders; chip envelopes and filters die sooner
SILENCE = 1e-4  # a one-shot's tail ends after its last sample above this (-80 dBFS)
FADE_SEC = 0.005  # a one-shot's trimmed tail fades out over this, so it ends on exact zero


@dataclass(frozen=True)
class LoopPoints:
    """Where the loop sits in a delivered file, in samples (`length_samples` 0: no loop)."""

    start_sample: int
    length_samples: int
    sample_rate: int

    @property
    def end_sample(self) -> int:
        return self.start_sample + self.length_samples

    @property
    def start_sec(self) -> float:
        return self.start_sample / self.sample_rate

    @property
    def length_sec(self) -> float:
        return self.length_samples / self.sample_rate


def piece_samples(score: ChipScore, sample_rate: int) -> tuple[int, int]:
    """(loop start, end) of `score` in samples: `loop_start_tick` and `end_tick` rounded."""
    start_sec, end_sec = score.tick_to_sec([score.loop_start_tick, score.end_tick])
    return round(float(start_sec) * sample_rate), round(float(end_sec) * sample_rate)


def render_length(score: ChipScore, sample_rate: int, tail_sec: float = TAIL_SEC) -> int:
    """How many samples to ask a back end for: the piece plus `tail_sec` of tail."""
    return piece_samples(score, sample_rate)[1] + round(tail_sec * sample_rate)


def performance(score: ChipScore, loop: bool = True) -> ChipScore:
    """What the back end plays for `score`: itself, or with an intro the body twice in a row."""
    if not loop or score.loop_start_tick <= 0 or score.end_tick <= score.loop_start_tick:
        return score
    return repeat_body(score, 2)


def repeat_body(score: ChipScore, times: int) -> ChipScore:
    """`score` with its loop body (notes, tempo and metre changes) played `times` times."""
    start, end = score.loop_start_tick, score.end_tick
    body = end - start
    notes, tempos, sigs = list(score.notes), list(score.tempos), list(score.time_signatures)
    in_body_tempos = [t for t in score.tempos if start <= t.tick < end]
    in_body_sigs = [s for s in score.time_signatures if start <= s.tick < end]
    first_tempo = [t for t in score.tempos if t.tick <= start][-1]
    first_sig = [s for s in score.time_signatures if s.tick <= start][-1]
    for k in range(1, times):
        shift = k * body
        notes += [
            replace(n, start_tick=n.start_tick + shift, end_tick=n.end_tick + shift)
            for n in score.notes
            if n.start_tick >= start
        ]
        tempos = [t for t in tempos if t.tick != start + shift] + [
            Tempo(start + shift, first_tempo.us_per_beat)
        ]
        tempos += [Tempo(t.tick + shift, t.us_per_beat) for t in in_body_tempos if t.tick > start]
        sigs = [s for s in sigs if s.tick != start + shift]
        sigs.append(TimeSignature(start + shift, first_sig.numerator, first_sig.denominator))
        sigs += [replace(s, tick=s.tick + shift) for s in in_body_sigs if s.tick > start]
    return replace(
        score,
        notes=tuple(sorted(notes, key=lambda n: (n.start_tick, n.voice))),
        tempos=tuple(sorted(tempos, key=lambda t: t.tick)),
        time_signatures=tuple(sorted(sigs, key=lambda s: s.tick)),
        end_tick=end + (times - 1) * body,
    )


def assemble(
    audio: npt.NDArray[np.float32], score: ChipScore, sample_rate: int, loop: bool = True
) -> tuple[npt.NDArray[np.float32], LoopPoints]:
    """Cut `audio` (a render of `performance(score, loop)`) into a file and its loop points.

    Args:
        audio: float32, shape (num_samples,) or (num_samples, channels), from sample 0 of the
            performance, with its tail.
        loop: True cuts on `score.end_tick` and wraps the tail into the loop body (repeatedly if
            the tail is longer than the body); False keeps the tail until it falls silent.

    Returns:
        The file's samples (float32, same channel layout) and its loop points.
    """
    start, end = piece_samples(score, sample_rate)
    if not loop or end <= start:
        return trim_tail(audio, end, sample_rate), LoopPoints(0, 0, sample_rate)
    body = end - start
    if start > 0:  # the performance played the body twice: take the second one
        second_body = audio[end : end + body]
        out = np.zeros((end,) + audio.shape[1:], dtype=np.float32)
        out[:start] = audio[:start]
        out[start : start + len(second_body)] = second_body
        return out, LoopPoints(start, body, sample_rate)
    out = np.zeros((end,) + audio.shape[1:], dtype=np.float32)
    head = audio[:end]
    out[: len(head)] = head
    tail = audio[end:]
    for offset in range(0, len(tail), body):
        piece = tail[offset : offset + body]
        out[start : start + len(piece)] += piece
    return out, LoopPoints(start, body, sample_rate)


def trim_tail(
    audio: npt.NDArray[np.float32], end: int, sample_rate: int
) -> npt.NDArray[np.float32]:
    """`audio` cut after its last sample above `SILENCE` past `end`, with a short fade-out."""
    level = np.abs(audio).reshape(len(audio), -1).max(axis=1)
    loud = np.flatnonzero(level[end:] > SILENCE)
    stop = min(len(audio), end + (int(loud[-1]) + 1 if len(loud) else 0))
    out = audio[:stop].copy()
    fade = min(stop - end, max(1, int(FADE_SEC * sample_rate)))
    if stop > end and fade > 0:
        ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
        out[stop - fade :] *= ramp.reshape((fade,) + (1,) * (out.ndim - 1))
    return out
