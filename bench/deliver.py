"""Delivery benchmark: render + OGG + WAV + MP3 of a 60-s track, against a floor in the same run.

The track is examples/theme.mid played four times at 128 qpm (60 s). The floor is numpy
generating and writing the same number of float samples to a WAV file. Prints the min of
`--repeat` runs for the whole `render_file` and for each stage.

    python bench/deliver.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile

from chipline.arrange import ArrangeConfig, arrange, write_arranged_midi
from chipline.master import loop, writers
from chipline.master.loudness import normalize
from chipline.render import RenderConfig, render_file
from chipline.score import Tempo, read_midi, write_midi
from chipline.synth import SynthConfig, render

ROOT = Path(__file__).resolve().parents[1]
SR = 44100
TRACK_SEC = 60.0


def sixty_second_midi(folder: Path) -> Path:
    song = read_midi(ROOT / "examples" / "theme.mid")
    notes = tuple(
        replace(
            n, start_tick=n.start_tick + k * song.end_tick, end_tick=n.end_tick + k * song.end_tick
        )
        for k in range(4)
        for n in song.notes
    )
    us_per_beat = round(60e6 / 128)
    long = replace(
        song,
        notes=tuple(sorted(notes)),
        tempos=(Tempo(0, us_per_beat),),
        end_tick=4 * song.end_tick,
    )
    return write_midi(long, folder / "sixty.mid")


def best(fn: Callable[[], object], repeat: int) -> float:
    """Min wall-clock seconds of `repeat` calls."""
    return min(timed(fn)[0] for _ in range(repeat))


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        midi = sixty_second_midi(work)
        num = int(TRACK_SEC * SR)

        def floor() -> None:
            x = np.sin(np.arange(num, dtype=np.float32) * np.float32(0.0627)) * np.float32(0.25)
            soundfile.write(work / "floor.wav", x, SR, subtype="FLOAT")

        def deliver() -> None:
            out = work / f"out-{time.perf_counter_ns()}"
            render_file(midi, out, RenderConfig(), refresh=False)

        score = arrange(read_midi(midi), ArrangeConfig())
        played = loop.performance(score)
        audio = render(played, SynthConfig(SR), loop.render_length(played, SR))
        looped, points = loop.assemble(audio, score, SR)
        master, _ = normalize(looped, SR, -18.0, loop=True)

        def libsndfile_mp3() -> None:
            with soundfile.SoundFile(
                work / "ref.mp3", "w", SR, 1, "MPEG_LAYER_III", format="MP3",
                compression_level=0.0, bitrate_mode="VARIABLE",
            ) as f:  # fmt: skip
                for offset in range(0, len(master), 16384):
                    f.write(master[offset : offset + 16384])

        stages = {
            "read + arrange": lambda: arrange(read_midi(midi), ArrangeConfig()),
            "arranged MIDI": lambda: write_arranged_midi(score, work / "arranged.mid"),
            "synth render (piece + 2 s continuation)": lambda: render(
                played, SynthConfig(SR), loop.render_length(played, SR)
            ),
            "loop + loudness": lambda: normalize(
                loop.assemble(audio, score, SR)[0], SR, -18.0, loop=True
            ),
            "OGG write": lambda: writers.write_ogg(work / "a.ogg", master, SR, points),
            "WAV write": lambda: writers.write_wav(work / "a.wav", master, SR, points),
            "MP3 write": lambda: writers.write_mp3(work / "a.mp3", master, SR),
            "MP3 libsndfile (reference, not used)": libsndfile_mp3,
        }
        floor_sec = best(floor, repeat)
        total_sec, total_cpu = min(timed(deliver) for _ in range(repeat))
        print(f"track: {len(master) / SR:.1f} s, {SR} Hz mono; min of {repeat} runs")
        print(f"floor (numpy generate + write {num} samples): {floor_sec:.3f} s")
        print(
            f"render_file (read, arrange, synth, loop, loudness, OGG+WAV+MP3, roll, manifest): "
            f"{total_sec:.3f} s = {TRACK_SEC / total_sec:.0f}x realtime, "
            f"{total_sec / floor_sec:.0f}x the floor (target <= 1 s); "
            f"CPU time of that run {total_cpu:.3f} s (all threads)"
        )
        print(f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        for label, fn in stages.items():
            sec = best(fn, repeat)
            print(f"  {label:36s} {sec:.3f} s  ({sec / floor_sec:.1f}x floor)")


if __name__ == "__main__":
    main()
