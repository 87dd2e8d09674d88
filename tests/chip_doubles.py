"""Test doubles for the render pipeline: MIDI builders, a tiny arranger and a linear back end.

`SineBackend` renders each note as a sine with a decaying tail that rings past the note's end.
It is linear and stateless, so a continuous render of a loop played twice is exactly the sum of
the shifted renders: the reference the loop seam is checked against.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from chipline.bridge.base import RenderRequest
from chipline.chip import ChipNote, ChipScore
from chipline.score import Note, Song, Tempo, TimeSignature, bar_length_ticks, write_midi

TPB = 480
RING_SEC = 0.6  # tail length of every note past its end


def make_song(
    num_bars: int = 4,
    qpm: float = 120.0,
    drums_only: bool = False,
    pitches: tuple[int, ...] = (60, 64, 67, 72),
) -> Song:
    """A song of quarter notes cycling through `pitches` (channel 1) plus a kick every beat."""
    notes = []
    for beat in range(num_bars * 4):
        start = beat * TPB
        notes.append(Note(start, start + TPB // 2, 36, 100, channel=9))
        if not drums_only:
            notes.append(Note(start, start + TPB - 10, pitches[beat % len(pitches)], 100))
    return Song(
        ticks_per_beat=TPB,
        notes=tuple(sorted(notes)),
        tempos=(Tempo(0, round(60_000_000 / qpm)),),
        time_signatures=(TimeSignature(0, 4, 4),),
        end_tick=num_bars * 4 * TPB,
    )


def write_song(path: Path, song: Song) -> Path:
    return write_midi(song, path)


def fake_arrange(song: Song, config: object = None) -> ChipScore:
    """Pitched notes to Pulse 1, drums to Noise; end on the next bar line."""
    bar = bar_length_ticks(song.time_signatures[0], song.ticks_per_beat)
    end = -(-max(song.end_tick, 1) // bar) * bar
    notes = tuple(
        ChipNote(
            "Noise" if n.is_drum else "Pulse 1",
            n.start_tick,
            n.end_tick,
            (n.pitch % 16 if n.is_drum else n.pitch,),
        )
        for n in song.notes
    )
    return ChipScore("nes", song.ticks_per_beat, notes, song.tempos, song.time_signatures, end)


def fake_write_arranged(score: ChipScore, path: Path) -> Path:
    notes = tuple(
        Note(n.start_tick, n.end_tick, n.pitches[0], 100, channel=9 if n.voice == "Noise" else 0)
        for n in score.notes
    )
    return write_midi(
        Song(
            score.ticks_per_beat,
            notes,
            score.tempos,
            score.time_signatures,
            end_tick=score.end_tick,
        ),
        path,
    )


def sine_render(score: ChipScore, sample_rate: int, num_samples: int) -> npt.NDArray[np.float32]:
    """float32 (num_samples,): each note a sine (noise notes a 90 Hz thump) with a ringing tail."""
    out = np.zeros(num_samples, dtype=np.float64)
    for note in score.notes:
        start_sec, end_sec = (float(s) for s in score.tick_to_sec([note.start_tick, note.end_tick]))
        start = round(start_sec * sample_rate)
        stop = min(num_samples, round((end_sec + RING_SEC) * sample_rate))
        if stop <= start:
            continue
        t = np.arange(stop - start) / sample_rate
        hz = 90.0 if note.voice == "Noise" else 440.0 * 2 ** ((note.pitches[0] - 69) / 12)
        held = end_sec - start_sec
        env = np.where(t < held, 1.0, np.exp(-(t - held) / (RING_SEC / 6)))
        out[start:stop] += 0.2 * env * np.sin(2 * np.pi * hz * t)
    return out.astype(np.float32)


class SineBackend:
    """A linear, stateless back end (see module docstring); records its requests."""

    name = "sine"

    def __init__(self) -> None:
        self.requests: list[RenderRequest] = []

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        self.requests.append(request)
        assert request.arranged_midi.exists()
        return sine_render(request.score, request.sample_rate, request.num_samples)

    def render_stems(self, request: RenderRequest) -> dict[str, npt.NDArray[np.float32]]:
        voices = sorted({n.voice for n in request.score.notes})
        return {
            v: sine_render(
                replace(request.score, notes=tuple(n for n in request.score.notes if n.voice == v)),
                request.sample_rate,
                request.num_samples,
            )
            for v in voices
        }


def install_fakes(monkeypatch: pytest.MonkeyPatch) -> SineBackend:
    """Route `chipline.render` through the fake arranger and a SineBackend registered as "sine"."""
    from chipline import bridge, render

    backend = SineBackend()
    monkeypatch.setattr(render, "_arrange", fake_arrange)
    monkeypatch.setattr(render, "_write_arranged", fake_write_arranged)
    monkeypatch.setitem(bridge.BACKENDS, "sine", lambda cfg: backend)
    return backend
