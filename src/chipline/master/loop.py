"""Loop assembly: a file whose jump from its last sample back to the loop start is seamless.

With looping on, the back end plays the piece and then goes on into the loop body again for
`CONTINUE_SEC` (`performance`). The file ends exactly on the bar line `end_tick`; its loop body
starts with that continuation instead of the first pass, so it carries what rang past the end
(tails, envelopes, filter memory, a stateful chip's registers) exactly as a continuous
performance has it: from the last sample through the jump and for `CONTINUE_SEC` after it, a
looping player hears the continuous render sample for sample. `SEAM_FADE_SEC` before the
continuation ends it is cross-faded back into the first pass; that short blend is where a chip's
free-running oscillators, which never repeat exactly, change phase. With an intro
(`loop_start_tick > 0`) the same holds for the body; only the single intro-to-body step of the
first pass drops whatever of the intro rings past it. With looping off the natural tail is kept,
trimmed once it falls silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipScore
from chipline.score import Tempo, TimeSignature

TAIL_SEC = 2.0  # how long past the end a back end renders; chip envelopes and filters die sooner
CONTINUE_SEC = 2.0  # how far the performance goes on into the loop body again (>= the tails)
SEAM_FADE_SEC = 0.01  # the cross-fade from the continuation back into the first pass
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
    """What the back end plays for `score`: itself, or with looping on the piece followed by the
    first `CONTINUE_SEC` (at least; whole notes) of its loop body again."""
    if not loop or score.end_tick <= score.loop_start_tick:
        return score
    return extend_body(score, _continue_ticks(score))


def _continue_ticks(score: ChipScore) -> int:
    """Ticks from the loop start covering `CONTINUE_SEC` (capped at the body's length)."""
    start, end = score.loop_start_tick, score.end_tick
    target = float(score.tick_to_sec(start)) + CONTINUE_SEC
    ticks = np.arange(start, end + 1, max(1, score.ticks_per_beat // 4))
    later = np.flatnonzero(score.tick_to_sec(ticks) >= target)
    return int(ticks[later[0]]) - start if len(later) else end - start


def repeat_body(score: ChipScore, times: int) -> ChipScore:
    """`score` with its loop body (notes, tempo and metre changes) played `times` times."""
    body = score.end_tick - score.loop_start_tick
    for _ in range(times - 1):
        score = replace(extend_body(score, body), loop_start_tick=score.loop_start_tick + body)
    return replace(score, loop_start_tick=score.end_tick - body)


def extend_body(score: ChipScore, num_ticks: int) -> ChipScore:
    """`score` followed by the first `num_ticks` of its loop body (notes starting there, tempo
    and metre changes); `end_tick` moves to the end of that continuation."""
    start, end = score.loop_start_tick, score.end_tick
    shift, stop = end - start, start + num_ticks
    tempo = [t for t in score.tempos if t.tick <= start][-1]
    sig = [s for s in score.time_signatures if s.tick <= start][-1]
    notes = list(score.notes) + [
        replace(n, start_tick=n.start_tick + shift, end_tick=n.end_tick + shift)
        for n in score.notes
        if start <= n.start_tick < stop
    ]
    tempos = [t for t in score.tempos if t.tick < end] + [Tempo(end, tempo.us_per_beat)]
    tempos += [Tempo(t.tick + shift, t.us_per_beat) for t in score.tempos if start < t.tick < stop]
    sigs = [s for s in score.time_signatures if s.tick < end]
    sigs.append(TimeSignature(end, sig.numerator, sig.denominator))
    sigs += [
        replace(s, tick=s.tick + shift) for s in score.time_signatures if start < s.tick < stop
    ]
    return replace(
        score,
        notes=tuple(sorted(notes, key=lambda n: (n.start_tick, n.voice))),
        tempos=tuple(sorted(tempos, key=lambda t: t.tick)),
        time_signatures=tuple(sorted(sigs, key=lambda s: s.tick)),
        end_tick=end + num_ticks,
    )


def assemble(
    audio: npt.NDArray[np.float32], score: ChipScore, sample_rate: int, loop: bool = True
) -> tuple[npt.NDArray[np.float32], LoopPoints]:
    """Cut `audio` (a render of `performance(score, loop)`) into a file and its loop points.

    Args:
        audio: float32, shape (num_samples,) or (num_samples, channels), from sample 0 of the
            performance, with its tail.
        loop: True: the file ends on `score.end_tick` and its loop body starts with the
            continuation (see the module docstring); False keeps the tail until it falls silent.

    Returns:
        The file's samples (float32, same channel layout) and its loop points.
    """
    start, end = piece_samples(score, sample_rate)
    if not loop or end <= start:
        return trim_tail(audio, end, sample_rate), LoopPoints(0, 0, sample_rate)
    body = end - start
    played_end = piece_samples(performance(score), sample_rate)[1]
    out = np.zeros((end,) + audio.shape[1:], dtype=np.float32)
    head = audio[:end]
    out[: len(head)] = head
    span = min(played_end - end, body, max(0, len(audio) - end))
    fade = min(span, max(1, round(SEAM_FADE_SEC * sample_rate)))
    out[start : start + span - fade] = audio[end : end + span - fade]
    k = np.arange(1, fade + 1, dtype=np.float64) / fade
    w = (0.5 - 0.5 * np.cos(np.pi * k)).astype(np.float32).reshape((fade,) + (1,) * (out.ndim - 1))
    blend = slice(start + span - fade, start + span)
    out[blend] = (1 - w) * audio[end + span - fade : end + span] + w * out[blend]
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
