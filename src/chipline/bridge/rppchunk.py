"""Raw-text pieces of an `.rpp` file, so chunks copied from a template stay byte-for-byte equal.

The `rpp` library parses and checks projects, but re-quotes tokens when it writes them back
(REAPER writes `"7.27/win64"`, `rpp` writes `7.27/win64`); a user's plug-in state must not change
by a single byte, so chunks we copy are carried as the template's own lines.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

# REAPER's render sink configurations start with a reversed four-character code.
MP3_FOURCC = b"l3pm"
WAV_FOURCC = b"evaw"
# LAME quality codes REAPER stores (byte 12 of the MP3 config): maximum ... fastest.
MP3_QUALITY_CODES = {"maximum": 0, "better": 2, "normal": 3, "fast": 5, "faster": 7, "fastest": 9}
WAV_BITS_PER_SAMPLE = 24


@dataclass(frozen=True)
class Piece:
    """One child of a chunk: a single attribute line, or a nested chunk (its lines, `>` included).

    `lines` are the original lines without their line ending; `key` is the first token
    (`TEMPO`) or the chunk tag (`TRACK`).
    """

    key: str
    lines: tuple[str, ...]

    @property
    def is_chunk(self) -> bool:
        return self.lines[0].lstrip().startswith("<")


def clean_lines(text: str) -> list[str]:
    """The lines of an `.rpp` text without line endings and without blank lines.

    REAPER never writes blank lines, and the `rpp` parser rejects them.
    """
    return [line for line in text.splitlines() if line.strip()]


def split_children(lines: list[str] | tuple[str, ...]) -> tuple[str, list[Piece], str]:
    """Split a chunk's lines (`<TAG ...` through `>`) into header, children and closing line.

    Raises:
        ValueError: the lines are not one balanced chunk.
    """
    if len(lines) < 2 or not lines[0].lstrip().startswith("<") or lines[-1].strip() != ">":
        raise ValueError("not a chunk: expected '<TAG ...' first and '>' last")
    children: list[Piece] = []
    i = 1
    while i < len(lines) - 1:
        end = _chunk_end(lines, i) if lines[i].lstrip().startswith("<") else i
        if end >= len(lines) - 1:
            raise ValueError(f"unbalanced chunk starting at line {i + 1}: {lines[i].strip()}")
        children.append(Piece(_key(lines[i]), tuple(lines[i : end + 1])))
        i = end + 1
    return lines[0], children, lines[-1]


def _chunk_end(lines: list[str] | tuple[str, ...], start: int) -> int:
    depth = 0
    for i in range(start, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("<"):
            depth += 1
        elif stripped == ">":
            depth -= 1
            if depth == 0:
                return i
    return len(lines)


def _key(line: str) -> str:
    token = line.strip().lstrip("<").split(maxsplit=1)
    return token[0] if token else ""


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def quote(value: str) -> str:
    """A token quoted as REAPER quotes it: `"` unless the value holds one, then `'`, then `` ` ``.

    Unlike REAPER's habit of leaving single words bare, this always quotes (REAPER reads both).
    """
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return "`" + value.replace("`", "'") + "`"


def mp3_render_cfg(kbps: int = 128, quality: str = "fast") -> str:
    """Base64 MP3 (LAME) constant-bit-rate sink configuration, as REAPER stores it in RENDER_CFG.

    Layout (little-endian int32 fields): FOURCC, kbps, 0, quality code, -1, 4, kbps, 0.
    """
    code = MP3_QUALITY_CODES[quality]
    blob = MP3_FOURCC + struct.pack("<iiiiiii", kbps, 0, code, -1, 4, kbps, 0)
    return base64.b64encode(blob).decode("ascii")


def wav_render_cfg() -> str:
    """Base64 WAV sink configuration: 24-bit PCM (the form REAPER saves as `ZXZhdxgAAQ==`)."""
    blob = WAV_FOURCC + bytes((WAV_BITS_PER_SAMPLE, 0, 1))
    return base64.b64encode(blob).decode("ascii")


def render_cfg_fourcc(b64: str) -> bytes:
    """The format code of a base64 sink configuration, in reading order (`mp3l`, `wave`)."""
    return base64.b64decode(b64)[:4][::-1]
