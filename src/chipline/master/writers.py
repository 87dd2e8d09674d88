"""Audio writers: WAV 16-bit with a `smpl` loop, OGG Vorbis with loop tags, gapless MP3.

Each writer takes float32 audio, shape (num_samples,) mono or (num_samples, channels), in
[-1, 1), and writes exactly the
file at `path` (the caller stages a temporary name and renames it; see `files.Staging`).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from chipline.errors import RenderError
from chipline.master import mp3, vorbis
from chipline.master.loop import LoopPoints

OGG_BLOCK_FRAMES = 16384  # one large write crashes libvorbis (libsndfile #1095): write in blocks
OGG_COMPRESSION = 0.4  # libsndfile's Vorbis scale: 0 best; 0.4 is about quality 6
MP3_KBPS = 160  # CBR; chip.md §5.2: stay >= 128 kbps so decoders stay sample-exact
PCM16_SCALE = 32768.0  # libsndfile reads 16-bit PCM back as value / 32768


def to_pcm16(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    """Round float audio to 16-bit integers (clipped at full scale)."""
    return np.clip(np.rint(audio * PCM16_SCALE), -32768, 32767).astype("<i2")


def write_wav(
    path: Path, audio: npt.NDArray[np.float32], sample_rate: int, loop: LoopPoints | None
) -> None:
    """16-bit PCM WAV; with a loop, a RIFF `smpl` chunk holds one forward loop whose
    end is inclusive (start, start + length - 1), as samplers and Godot read it."""
    data = to_pcm16(audio).tobytes()
    channels = _channels(audio)
    fmt = struct.pack(
        "<HHIIHH", 1, channels, sample_rate, sample_rate * 2 * channels, 2 * channels, 16
    )
    chunks = _chunk(b"fmt ", fmt) + _chunk(b"data", data)
    if loop is not None and loop.length_samples > 0:
        chunks += _chunk(b"smpl", smpl_chunk(loop))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def smpl_chunk(loop: LoopPoints) -> bytes:
    """The body of a `smpl` chunk with one infinite forward loop (no sampler data)."""
    period_ns = round(1e9 / loop.sample_rate)
    head = struct.pack("<9I", 0, 0, period_ns, 60, 0, 0, 0, 1, 0)
    body = struct.pack("<6I", 0, 0, loop.start_sample, loop.end_sample - 1, 0, 0)
    return head + body


def read_smpl_loop(path: Path) -> tuple[int, int] | None:
    """(start, inclusive end) of the first loop in a WAV's `smpl` chunk, or None."""
    data = path.read_bytes()
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if kind == b"smpl" and struct.unpack_from("<I", data, pos + 8 + 28)[0] > 0:
            start, end = struct.unpack_from("<II", data, pos + 8 + 36 + 8)
            return start, end
        pos += 8 + size + (size & 1)
    return None


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def write_ogg(
    path: Path,
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    loop: LoopPoints | None,
    title: str = "",
) -> None:
    """Ogg Vorbis; with a loop, LOOPSTART/LOOPLENGTH comments (samples) RPG Maker reads.

    The comments are always rewritten, which also replaces libvorbis's random stream serial:
    equal audio gives equal bytes.
    """
    _write_soundfile(path, audio, sample_rate, "OGG", "VORBIS", compression_level=OGG_COMPRESSION)
    if loop is not None and loop.length_samples > 0:
        tags = vorbis.loop_comments(loop.start_sample, loop.length_samples, title)
    else:
        tags = vorbis.title_comments(title)
    path.write_bytes(vorbis.set_comments(path.read_bytes(), tags))


def write_mp3(path: Path, audio: npt.NDArray[np.float32], sample_rate: int) -> None:
    """CBR MP3 with the Info/LAME tag, so tag-aware decoders trim it to the exact length."""
    path.write_bytes(mp3.encode(to_pcm16(audio), sample_rate, _channels(audio), MP3_KBPS))


def _write_soundfile(
    path: Path,
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    container: str,
    subtype: str,
    **options: object,
) -> None:
    try:
        with soundfile.SoundFile(
            path, "w", sample_rate, _channels(audio), subtype, format=container, **options
        ) as f:
            for offset in range(0, len(audio), OGG_BLOCK_FRAMES):
                f.write(audio[offset : offset + OGG_BLOCK_FRAMES])
    except soundfile.LibsndfileError as e:
        raise RenderError(f"{path}: {container} encoder failed ({e})") from e


def _channels(audio: npt.NDArray[np.float32]) -> int:
    return 1 if audio.ndim == 1 else int(audio.shape[1])
