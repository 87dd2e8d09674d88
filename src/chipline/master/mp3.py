"""Gapless MP3: LAME (via lameenc) plus the Info/LAME tag frame that lameenc does not write.

The tag frame goes first in the file. Tag-aware decoders (ffmpeg, mpg123 and so libsndfile)
read the encoder delay and padding from it and return exactly the encoded samples; decoders
that ignore it play it as one silent frame. Layout: LAME's "Info" header (frames, bytes, TOC,
quality) and its 36-byte extension (version, delay and padding, music length, tag CRC-16).
"""

from __future__ import annotations

import struct

import lameenc
import numpy as np
import numpy.typing as npt

from chipline.errors import RenderError

SAMPLES_PER_FRAME = 1152  # MPEG-1 Layer III
ENCODER_DELAY = 576  # LAME's fixed encoder delay, in samples (the tag tells decoders to skip it)
LAME_QUALITY = 5  # LAME's -q: 2 best and slowest, 7 fast; 5 is its usual speed/quality point
MPEG1_RATES = {44100: 0, 48000: 1, 32000: 2}
_BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_CRC16_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0xA001 if _crc & 1 else _crc >> 1
    _CRC16_TABLE.append(_crc)


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC (polynomial 0x8005 reflected, init 0), as LAME checksums its tag."""
    for byte in data:
        crc = (crc >> 8) ^ _CRC16_TABLE[(crc ^ byte) & 0xFF]
    return crc


def encode(pcm: npt.NDArray[np.int16], sample_rate: int, channels: int, bitrate_kbps: int) -> bytes:
    """CBR MPEG-1 Layer III of interleaved 16-bit `pcm`, with an Info/LAME tag frame first.

    Raises:
        RenderError: a sample rate MPEG-1 does not have (32, 44.1, 48 kHz) or an invalid bitrate.
    """
    if sample_rate not in MPEG1_RATES or bitrate_kbps not in _BITRATES_KBPS[1:]:
        raise RenderError(
            f"MP3 needs 32000, 44100 or 48000 Hz and a standard bitrate; got {sample_rate} Hz, "
            f"{bitrate_kbps} kbps"
        )
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(LAME_QUALITY)
    audio = bytes(encoder.encode(np.ascontiguousarray(pcm, dtype="<i2").tobytes()))
    audio += bytes(encoder.flush())
    num_frames = count_frames(audio)
    num_samples = len(pcm) if pcm.ndim == 1 else pcm.shape[0]
    padding = num_frames * SAMPLES_PER_FRAME - ENCODER_DELAY - num_samples
    if not 0 <= padding < 4096:
        raise RenderError(f"MP3 encoder returned {num_frames} frames for {num_samples} samples")
    tag = info_frame(audio[:4], num_frames, len(audio), padding, bitrate_kbps)
    return tag + audio


def count_frames(audio: bytes) -> int:
    """How many MPEG audio frames `audio` holds, walking their headers."""
    pos = count = 0
    while pos + 4 <= len(audio):
        header = struct.unpack_from(">I", audio, pos)[0]
        if header >> 21 != 0x7FF:
            raise RenderError(f"MP3 stream: no frame header at byte {pos}")
        pos += _frame_bytes(header)
        count += 1
    return count


def _frame_bytes(header: int) -> int:
    bitrate = _BITRATES_KBPS[(header >> 12) & 0xF] * 1000
    rate = (44100, 48000, 32000)[(header >> 10) & 0x3]
    return 144 * bitrate // rate + ((header >> 9) & 1)


def info_frame(
    first_header: bytes, num_frames: int, audio_bytes: int, padding: int, bitrate_kbps: int
) -> bytes:
    """The Info/LAME tag frame for a CBR stream whose first frame header is `first_header`."""
    header = struct.unpack(">I", first_header)[0]
    header |= 1 << 16  # no CRC on this frame
    header &= ~(1 << 9)  # no padding slot
    size = _frame_bytes(header)
    mono = (header >> 6) & 0x3 == 3
    side_info = 17 if mono else 32
    frame = bytearray(size)
    struct.pack_into(">I", frame, 0, header)
    tag = 4 + side_info
    total_bytes = size + audio_bytes
    toc = bytes(i * 256 // 100 for i in range(100))
    struct.pack_into(">4sIII100sI", frame, tag, b"Info", 0x0F, num_frames, total_bytes, toc, 50)
    lame = tag + 120
    delay_padding = (ENCODER_DELAY << 12 | padding).to_bytes(3, "big")
    struct.pack_into(
        ">9sBBfhhBB3sBBHIH",
        frame,
        lame,
        b"LAME3.100",
        0x01,  # tag revision 0, VBR method 1 (CBR)
        min(255, 17000 // 100),  # lowpass / 100 Hz, as LAME sets it at these rates
        0.0,  # peak amplitude: not measured
        0,
        0,  # replay gain: none
        0,  # encoding flags, ATH type
        min(255, bitrate_kbps),
        delay_padding,
        0,  # misc: source rate 44.1 kHz or less / unknown
        0,  # MP3 gain
        0,  # preset, surround
        total_bytes,  # music length: the whole stream, tag frame included
        0,  # music CRC: not computed (no decoder checks it)
    )
    struct.pack_into(">H", frame, lame + 34, crc16(bytes(frame[: lame + 34])))
    return bytes(frame)
