"""Writers: WAV smpl loops, OGG loop tags (emulated RPG Maker MV/MZ parsers), gapless MP3."""

from __future__ import annotations

import re
import struct
import subprocess

import numpy as np
import pytest
import soundfile

from chipline.master import mp3, vorbis
from chipline.master.loop import LoopPoints
from chipline.master.writers import read_smpl_loop, write_mp3, write_ogg, write_wav

SR = 44100
PCM16_TOL = 1 / 32768  # one 16-bit step


def _signal(seconds: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * SR)) / SR
    chirp = np.sin(2 * np.pi * (200 + 400 * t) * t)
    return (0.3 * chirp + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


def _ffmpeg_decode(path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4")


# -- RPG Maker's loop-tag scanners, as described in chip.md §5.3 (they are not Vorbis parsers) --


def _scan_loop_tags(packet_bytes: bytes) -> dict[str, int]:
    """Find `LOOP`, read up to the next NUL byte, regex the digits (RPG Maker's approach)."""
    found: dict[str, int] = {}
    i = 0
    while i < len(packet_bytes) - 10:
        if packet_bytes[i : i + 4] == b"LOOP":
            end = packet_bytes.find(b"\0", i)
            text = packet_bytes[i : end if end >= 0 else len(packet_bytes)].decode("latin-1")
            for key in ("LOOPSTART", "LOOPLENGTH"):
                m = re.match(key + r"=([0-9]+)", text)
                if m:
                    found[key] = int(m.group(1))
            i = max(i + 1, end)
        else:
            i += 1
    return found


def _comment_segments(data: bytes) -> tuple[bytes, bytes]:
    """(first lacing segment, whole packet) of the comment header, by walking page segments."""
    pages = vorbis.read_pages(data)
    segs = [(lace, page) for page in pages[:3] for lace in page.lacing]
    bodies = b"".join(page.body for page in pages[:3])
    pos, start = 0, None
    whole = b""
    for lace, _ in segs:
        chunk = bodies[pos : pos + lace]
        if start is None and chunk[:7] == b"\x03vorbis":
            start, first = pos, chunk
        if start is not None:
            whole += chunk
            if lace < 255:
                break
        pos += lace
    # RPG Maker reads raw page bytes, so what follows the packet in the page is visible too
    tail = bodies[pos + lace : pos + lace + 64]
    return first + tail[:0], whole + tail


def rpgmaker_mv(data: bytes) -> dict[str, int]:
    """MV's original reader: scans only the comment packet's first lacing value (<= 255 bytes)."""
    first, whole = _comment_segments(data)
    return _scan_loop_tags(whole[: len(first)] + b"\0")


def rpgmaker_mz(data: bytes) -> dict[str, int]:
    """The later reader: the whole comment packet (and what follows it on the page)."""
    return _scan_loop_tags(_comment_segments(data)[1])


def test_wav_smpl_loop_and_samples(tmp_path):
    x = _signal()
    loop = LoopPoints(SR // 2, 2 * SR, SR)
    path = tmp_path / "a.wav"
    write_wav(path, x, SR, loop)
    y, sr = soundfile.read(path, dtype="float32")
    assert sr == SR
    assert len(y) == len(x)
    assert np.abs(y - x).max() <= PCM16_TOL
    assert read_smpl_loop(path) == (loop.start_sample, loop.end_sample - 1)
    assert len(_ffmpeg_decode(path)) == len(x)
    write_wav(tmp_path / "b.wav", x, SR, None)
    assert read_smpl_loop(tmp_path / "b.wav") is None


def test_ogg_loop_tags_parse_in_both_rpgmaker_readers(tmp_path):
    x = _signal()
    path = tmp_path / "a.ogg"
    write_ogg(path, x, SR, LoopPoints(12345, 98765, SR), title="My loopy Title")
    data = path.read_bytes()
    expected = {"LOOPSTART": 12345, "LOOPLENGTH": 98765}
    assert rpgmaker_mv(data) == expected
    assert rpgmaker_mz(data) == expected
    vendor, comments = vorbis.read_comments(data)
    assert comments[-2:] == ["LOOPSTART=12345", "LOOPLENGTH=98765"]
    assert vendor  # libvorbis' vendor string kept
    y, sr = soundfile.read(path, dtype="float32")
    assert len(y) == len(x) == len(_ffmpeg_decode(path))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream_tags", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "LOOPSTART=12345" in probe
    assert "LOOPLENGTH=98765" in probe


def test_tag_rewrite_keeps_audio_identical(tmp_path):
    x = _signal(seconds=8.0)  # several audio pages, renumbered with fresh checksums
    plain, tagged = tmp_path / "plain.ogg", tmp_path / "tagged.ogg"
    write_ogg(plain, x, SR, None)
    write_ogg(tagged, x, SR, LoopPoints(0, len(x), SR), title="t" * 300)
    a, _ = soundfile.read(plain, dtype="float32")
    b, _ = soundfile.read(tagged, dtype="float32")
    np.testing.assert_array_equal(a, b)
    assert rpgmaker_mv(tagged.read_bytes()) == {"LOOPSTART": 0, "LOOPLENGTH": len(x)}


def test_ogg_bytes_repeat_with_or_without_a_loop(tmp_path):
    x = _signal(seconds=1.0)
    for loop in (None, LoopPoints(0, len(x), SR)):
        first, second = tmp_path / "first.ogg", tmp_path / "second.ogg"
        write_ogg(first, x, SR, loop, title="theme")
        write_ogg(second, x, SR, loop, title="theme")
        assert first.read_bytes() == second.read_bytes()
        assert "TITLE=theme" in vorbis.read_comments(first.read_bytes())[1]


def test_parser_emulation_catches_the_known_traps(tmp_path):
    """The emulations are not vacuous: a bad layout of the same tags mis-parses in them."""
    x = _signal(seconds=1.0)
    path = tmp_path / "a.ogg"
    write_ogg(path, x, SR, None)
    data = path.read_bytes()
    # trap 1: a 52-byte comment after LOOPSTART: its length byte '4' joins the value
    bad = [("LOOPSTART", "176400"), ("LOOPLENGTH", "88200"), ("TITLE", "x" * 46)]
    bad_order = vorbis.set_comments(data, [bad[0], bad[2], bad[1]])
    assert rpgmaker_mz(bad_order)["LOOPSTART"] == 1764004
    # trap 2: tags past the first 255 bytes are invisible to MV
    late = vorbis.set_comments(data, [("COMMENT", "y" * 300), bad[0], bad[1]])
    assert rpgmaker_mv(late) == {}
    assert rpgmaker_mz(late) == {"LOOPSTART": 176400, "LOOPLENGTH": 88200}


def test_ogg_crc_rejects_corruption(tmp_path):
    path = tmp_path / "a.ogg"
    write_ogg(path, _signal(1.0), SR, None)
    data = bytearray(path.read_bytes())
    vorbis.read_pages(bytes(data))  # libvorbis' own checksums verify with ours
    data[200] ^= 0xFF
    with pytest.raises(Exception, match="checksum"):
        vorbis.read_pages(bytes(data))


def test_mp3_decodes_to_exact_sample_count(tmp_path):
    x = _signal(seconds=5.0)
    path = tmp_path / "a.mp3"
    write_mp3(path, x, SR)
    decoded = _ffmpeg_decode(path)
    assert len(decoded) == len(x)  # the LAME/Info tag trims delay and padding
    # and aligned: the decoded signal lines up with the input (no leading offset)
    lag = np.argmax(np.correlate(decoded[SR : SR + 4096], x[SR - 64 : SR + 4096 + 64], "valid"))
    assert lag == 64
    head = path.read_bytes()[:2000]
    assert b"Info" in head or b"Xing" in head
    assert b"LAME" in head
    assert 8 * path.stat().st_size / 5.0 / 1000 >= 128
    y, _ = soundfile.read(path, dtype="float32")  # mpg123 inside libsndfile reads the tag too
    assert len(y) == len(x)


def test_mp3_tag_frame_fields(tmp_path):
    x = _signal(seconds=2.0)
    path = tmp_path / "a.mp3"
    write_mp3(path, x, SR)
    data = path.read_bytes()
    info = data.index(b"Info")
    flags, frames, size = struct.unpack_from(">III", data, info + 4)
    assert flags == 0x0F
    assert size == len(data)
    lame = info + 120
    assert data[lame : lame + 9] == b"LAME3.100"
    delay_padding = int.from_bytes(data[lame + 21 : lame + 24], "big")
    delay, padding = delay_padding >> 12, delay_padding & 0xFFF
    assert delay == mp3.ENCODER_DELAY
    assert (frames * mp3.SAMPLES_PER_FRAME - delay - padding) == len(x)
    assert struct.unpack_from(">H", data, lame + 34)[0] == mp3.crc16(data[: lame + 34])
    assert mp3.crc16(b"123456789") == 0xBB3D  # the CRC-16/ARC check value
