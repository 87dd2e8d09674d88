"""Benchmark the built-in synth: a 60-s four-voice arrangement (and a VRC6 one) vs a numpy floor.

Prints × realtime for `nes` and `vrc6` and the ratio of each render time to the floor: numpy
generating the same number of float32 samples (a sine) and writing them to a file, measured in
the same run, interleaved. Wall-clock and process CPU time are both shown: on a shared, loaded
machine the CPU time is the better estimate of one core's speed.
Run: `PYTHONPATH=src python bench/render.py [--seconds 60] [--repeat 7]`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from chipline.chip import ChipNote, ChipScore, Instrument
from chipline.score import Tempo, TimeSignature
from chipline.synth import SynthConfig, render

TICKS_PER_BEAT = 480
EIGHTH = TICKS_PER_BEAT // 2
SIXTEENTH = TICKS_PER_BEAT // 4
MELODY = (72, 74, 76, 79, 81, 79, 76, 74)
CHORDS = ((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))
BASS = (36, 33, 29, 31)


def arrangement(seconds: float, chip: str = "nes", qpm: float = 150.0) -> ChipScore:
    """P1 eighth-note melody, P2 sixteenth-note arpeggios, triangle bass, noise kick/snare/hats."""
    num_beats = int(seconds * qpm / 60)
    notes: list[ChipNote] = []
    for beat in range(num_beats):
        t = beat * TICKS_PER_BEAT
        bar = beat // 4
        chord = CHORDS[bar % 4]
        for half in range(2):
            pitch = MELODY[(2 * beat + half) % 8]
            start = t + half * EIGHTH
            notes.append(ChipNote("Pulse 1", start, start + EIGHTH - 20, (pitch,), 13, half))
            notes.append(ChipNote("Noise", start, start + 40, (1,), 8))
        for q in range(4):
            start = t + q * SIXTEENTH
            notes.append(ChipNote("Pulse 2", start, start + SIXTEENTH, chord, 9))
        notes.append(ChipNote("Triangle", t, t + TICKS_PER_BEAT - 30, (BASS[bar % 4],)))
        drum = (12, 0) if beat % 2 == 0 else (7, 0)
        notes.append(ChipNote("Noise", t, t + 120, (drum[0],), 15, drum[1]))
        if chip == "vrc6":
            notes.append(ChipNote("VRC6 Pulse 1", t, t + TICKS_PER_BEAT, (chord[1] + 12,), 10, 5))
            notes.append(ChipNote("VRC6 Pulse 2", t, t + TICKS_PER_BEAT, (chord[2] + 12,), 10, 3))
            notes.append(ChipNote("VRC6 Saw", t, t + TICKS_PER_BEAT, (chord[0] - 12,), 12))
    notes.sort(key=lambda n: (n.voice, n.start_tick))
    end = num_beats * TICKS_PER_BEAT
    return ChipScore(
        chip,  # type: ignore[arg-type]
        TICKS_PER_BEAT,
        tuple(notes),
        (Tempo(0, round(60e6 / qpm)),),
        (TimeSignature(0),),
        end,
        instruments={"Pulse 1": Instrument(1, (15, 14, 13, 12, 11, 10, 10, 9), (5, 2))},
    )


def floor_job(num_samples: int, sample_rate: int, path: str) -> None:
    """The floor: generate `num_samples` float32 samples with numpy and write them to a file."""
    w = 2 * np.pi * 440.0 / sample_rate
    np.sin(np.arange(num_samples) * w).astype(np.float32).tofile(path)


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sample-rate", type=int, default=44100)
    args = parser.parse_args()
    config = SynthConfig(sample_rate=args.sample_rate)
    num_samples = int(args.seconds * args.sample_rate)
    scores = {chip: arrangement(args.seconds, chip) for chip in ("nes", "vrc6")}
    jobs = {"floor": None, **scores}
    best = {name: (np.inf, np.inf) for name in jobs}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "floor.raw")
        for _ in range(args.repeat):  # interleaved, so load changes hit all three alike
            for name, score in jobs.items():
                if score is None:
                    wall, cpu = timed(lambda: floor_job(num_samples, args.sample_rate, path))
                else:
                    wall, cpu = timed(lambda s=score: render(s, config, num_samples))
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    print(f"{args.seconds:.0f} s at {args.sample_rate} Hz, best of {args.repeat} (interleaved)")
    print("job         wall ms  x realtime  vs floor |  CPU ms  x realtime  vs floor")
    floor_wall, floor_cpu = best["floor"]
    for name, (wall, cpu) in best.items():
        print(
            f"{name:8s} {wall * 1e3:9.1f} {args.seconds / wall:10.0f}x {wall / floor_wall:8.2f}x |"
            f" {cpu * 1e3:7.1f} {args.seconds / cpu:10.0f}x {cpu / floor_cpu:8.2f}x"
        )


if __name__ == "__main__":
    main()
