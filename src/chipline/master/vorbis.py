"""Ogg Vorbis comment headers: read them, and replace them with loop tags RPG Maker can parse.

libsndfile writes only fixed tag fields, so loop tags are written here: the comment packet is
rebuilt, the header pages re-paged, and later pages renumbered with fresh checksums. RPG Maker
MV/MZ do not parse Vorbis comments; they scan the comment packet for the text `LOOP`, read up to
the next NUL byte and pick the digits out (MV sees only the packet's first 255-byte segment). So
the packet holds the vendor string, an optional short TITLE, then LOOPSTART and LOOPLENGTH last:
each value is then followed by a length byte that is no ASCII digit, or by the framing byte.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace

from chipline.errors import RenderError

_CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIII B")  # capture, version, type, granule, serial, seq, crc, nsegs
_CONTINUED = 0x01
_BITREV = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
MAX_TITLE_BYTES = 40  # keeps the loop tags inside the first 255 bytes of the packet (MV)


@dataclass(frozen=True)
class Page:
    """One Ogg page: its header fields, lacing values and body."""

    header_type: int
    granule: int
    serial: int
    sequence: int
    lacing: bytes
    body: bytes

    def to_bytes(self) -> bytes:
        head = _HEADER.pack(
            _CAPTURE, 0, self.header_type, self.granule, self.serial, self.sequence, 0,
            len(self.lacing),
        )  # fmt: skip
        raw = head + self.lacing + self.body
        return raw[:22] + struct.pack("<I", ogg_crc(raw)) + raw[26:]


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, init 0, no xor-out.

    zlib computes the reflected variant; reflecting every input byte and the result turns one
    into the other, at C speed.
    """
    raw = zlib.crc32(data.translate(_BITREV), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def read_pages(data: bytes, where: str = "<ogg>") -> list[Page]:
    """Split an Ogg stream into pages, checking capture patterns and checksums."""
    pages, pos = [], 0
    while pos < len(data):
        if len(data) - pos < _HEADER.size or data[pos : pos + 4] != _CAPTURE:
            raise RenderError(f"{where}: not an Ogg page at byte {pos}")
        _, _, kind, granule, serial, seq, crc, nsegs = _HEADER.unpack_from(data, pos)
        lacing = data[pos + _HEADER.size : pos + _HEADER.size + nsegs]
        start = pos + _HEADER.size + nsegs
        body = data[start : start + sum(lacing)]
        page = Page(kind, granule, serial, seq, lacing, body)
        if page.to_bytes() != data[pos : start + len(body)]:
            raise RenderError(f"{where}: Ogg page {seq} has a bad checksum (crc {crc:08x})")
        pages.append(page)
        pos = start + len(body)
    return pages


def _packets(pages: list[Page], count: int, must_end_page: bool = True) -> tuple[list[bytes], int]:
    """The first `count` packets, and how many pages they fill (ending a page, if asked)."""
    packets: list[bytes] = []
    current = bytearray()
    for index, page in enumerate(pages):
        offset = 0
        for lace in page.lacing:
            current += page.body[offset : offset + lace]
            offset += lace
            if lace < 255:
                packets.append(bytes(current))
                current = bytearray()
        if len(packets) >= count:
            if must_end_page and (len(packets) > count or current):
                raise RenderError("Ogg headers share a page with audio; cannot rewrite tags")
            return packets[:count], index + 1
    raise RenderError("Ogg stream ends inside its headers")


def _paginate(packets: list[bytes], serial: int, first_sequence: int) -> list[Page]:
    """Lay `packets` onto pages of at most 255 segments, granule 0 (header pages)."""
    segments: list[tuple[int, bytes]] = []
    for packet in packets:
        for offset in range(0, len(packet) + 1, 255):
            chunk = packet[offset : offset + 255]
            segments.append((len(chunk), chunk))
            if len(chunk) < 255:
                break
    pages: list[Page] = []
    continued = False
    for offset in range(0, len(segments), 255):
        group = segments[offset : offset + 255]
        lacing = bytes(n for n, _ in group)
        body = b"".join(chunk for _, chunk in group)
        seq = first_sequence + len(pages)
        pages.append(Page(_CONTINUED if continued else 0, 0, serial, seq, lacing, body))
        continued = group[-1][0] == 255
    return pages


def comment_packet(vendor: bytes, comments: list[tuple[str, str]]) -> bytes:
    """A Vorbis comment header packet holding `comments` in order, with the framing bit."""
    out = bytearray(b"\x03vorbis")
    out += struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    for key, value in comments:
        entry = f"{key}={value}".encode()
        out += struct.pack("<I", len(entry)) + entry
    return bytes(out + b"\x01")


def read_comments(data: bytes) -> tuple[bytes, list[str]]:
    """The vendor string and `KEY=value` comments of an Ogg Vorbis stream."""
    packet = _packets(read_pages(data), 2, must_end_page=False)[0][1]
    if packet[:7] != b"\x03vorbis":
        raise RenderError("second Ogg packet is no Vorbis comment header")
    (vendor_len,) = struct.unpack_from("<I", packet, 7)
    pos = 11 + vendor_len
    vendor = packet[11:pos]
    (count,) = struct.unpack_from("<I", packet, pos)
    pos += 4
    comments = []
    for _ in range(count):
        (length,) = struct.unpack_from("<I", packet, pos)
        comments.append(packet[pos + 4 : pos + 4 + length].decode("utf-8", "replace"))
        pos += 4 + length
    return vendor, comments


def title_comments(title: str) -> list[tuple[str, str]]:
    """TITLE (ASCII, short, without 'LOOP', so loop-tag scanners never trip on it), if any."""
    clean = "".join(c for c in title if c.isascii() and c.isprintable())
    clean = clean.replace("LOOP", "Loop").replace("loop", "Loop")[:MAX_TITLE_BYTES].strip()
    return [("TITLE", clean)] if clean else []


def loop_comments(loop_start: int, loop_length: int, title: str = "") -> list[tuple[str, str]]:
    """TITLE (see `title_comments`), then LOOPSTART and LOOPLENGTH, in samples."""
    loop = [("LOOPSTART", str(loop_start)), ("LOOPLENGTH", str(loop_length))]
    return title_comments(title) + loop


def set_comments(data: bytes, comments: list[tuple[str, str]]) -> bytes:
    """`data` (an Ogg Vorbis stream) with its comments replaced by `comments`, audio unchanged."""
    pages = read_pages(data)
    headers, num_header_pages = _packets(pages, 3)
    vendor = read_comments(data)[0]
    # libvorbis draws a random stream serial; one taken from the audio makes equal input give
    # equal bytes (a single-stream file needs no other uniqueness).
    serial = zlib.crc32(b"".join(p.body for p in pages[num_header_pages:]))
    ident_pages = _paginate(headers[:1], serial, 0)
    ident_pages[0] = replace(ident_pages[0], header_type=pages[0].header_type)
    rest = _paginate([comment_packet(vendor, comments), headers[2]], serial, 1)
    shift = len(ident_pages) + len(rest) - num_header_pages
    audio = [
        replace(p, sequence=p.sequence + shift, serial=serial) for p in pages[num_header_pages:]
    ]
    out = bytearray()
    for page in ident_pages + rest + audio:
        out += page.to_bytes()
    return bytes(out)
