"""Piano-roll images of an arranged score: a colour per voice, loop start marked, PNG via zlib."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipScore

VOICE_COLOURS: dict[str, tuple[int, int, int]] = {
    "Pulse 1": (230, 80, 80),
    "Pulse 2": (240, 170, 60),
    "Triangle": (80, 160, 240),
    "Noise": (170, 170, 170),
    "VRC6 Pulse 1": (120, 210, 110),
    "VRC6 Pulse 2": (60, 190, 170),
    "VRC6 Saw": (190, 110, 230),
}
BACKGROUND = (24, 24, 32)
BAR_LINE = (48, 48, 64)
LOOP_LINE = (255, 255, 255)
PX_PER_PITCH = 3
NOISE_ROWS = 16  # the noise voice gets a strip of its own below the pitched voices
MAX_WIDTH = 1600


def render_roll(score: ChipScore, px_per_sec: float = 40.0) -> npt.NDArray[np.uint8]:
    """The piano roll of `score`: uint8 RGB, shape (height, width, 3), time left to right."""
    end_sec = max(float(score.tick_to_sec(score.end_tick)), 0.1)
    width = int(min(MAX_WIDTH, max(200, end_sec * px_per_sec)))
    pitched = [p for n in score.notes if n.voice != "Noise" for p in n.pitches]
    low, high = (min(pitched), max(pitched)) if pitched else (48, 72)
    low, high = low - 2, high + 2
    roll_h = (high - low + 1) * PX_PER_PITCH
    image = np.empty((roll_h + NOISE_ROWS * 2 + 4, width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    x_of = width / end_sec
    for bar_tick in _bar_ticks(score):
        x = int(float(score.tick_to_sec(bar_tick)) * x_of)
        image[:, min(x, width - 1)] = BAR_LINE
    for note in score.notes:
        x0, x1 = (int(float(s) * x_of) for s in score.tick_to_sec([note.start_tick, note.end_tick]))
        x1 = min(width, max(x1, x0 + 1))
        colour = VOICE_COLOURS.get(note.voice, (255, 255, 255))
        for pitch in set(note.pitches):
            if note.voice == "Noise":
                y = roll_h + 4 + (15 - min(max(pitch, 0), 15)) * 2
                image[y : y + 2, x0:x1] = colour
            else:
                y = (high - pitch) * PX_PER_PITCH
                image[y : y + PX_PER_PITCH - 1, x0:x1] = colour
    if score.loop_start_tick > 0:
        x = int(float(score.tick_to_sec(score.loop_start_tick)) * x_of)
        image[:, min(x, width - 1)] = LOOP_LINE
    return image


def _bar_ticks(score: ChipScore) -> list[int]:
    ticks: list[int] = []
    sigs = score.time_signatures
    for k, sig in enumerate(sigs):
        stop = sigs[k + 1].tick if k + 1 < len(sigs) else score.end_tick
        step = max(1, score.ticks_per_beat * 4 * sig.numerator // sig.denominator)
        ticks.extend(range(sig.tick, stop, step))
    return ticks[:2000]


def encode_png(image: npt.NDArray[np.uint8]) -> bytes:
    """PNG bytes of an RGB image, uint8, shape (height, width, 3)."""
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def write_roll(path: Path, score: ChipScore) -> None:
    """Write the piano roll of `score` as a PNG at `path`."""
    path.write_bytes(encode_png(render_roll(score)))
