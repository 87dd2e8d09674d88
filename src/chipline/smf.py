"""The Standard MIDI File byte format: a tolerant reader and a small writer.

It reads the way careful players do: unknown chunks are skipped (as the SMF spec asks),
system messages that are illegal in a file (F1-F6, F8-FE) are skipped, running status survives
meta and SysEx events, bytes after the last chunk are ignored, and a channel message cut short
by a status byte is dropped. What it cannot read (no header, a chunk or event running past the
end of the file) raises `SmfError`. Only the events chipline uses are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Data bytes that follow each system status byte that is illegal inside a file.
_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF4: 0, 0xF5: 0, 0xF6: 0}
_KEPT_META = {0x03, 0x51, 0x58, 0x59}  # track name, tempo, time signature, key signature
NOTE_OFF, NOTE_ON, PROGRAM = 0x80, 0x90, 0xC0


class SmfError(Exception):
    """The bytes are not a readable MIDI file; the message says why."""


@dataclass
class RawTrack:
    """The events of one track chunk, in absolute ticks.

    `channel` holds (tick, status, data1, data2) for note-on, note-off and program change;
    `meta` holds (tick, type, payload) for track name, tempo, time and key signature.
    """

    channel: list[tuple[int, int, int, int]] = field(default_factory=list)
    meta: list[tuple[int, int, bytes]] = field(default_factory=list)
    end_tick: int = 0
    num_events: int = 0


@dataclass
class RawFile:
    format: int
    ticks_per_beat: int  # negative: SMPTE division
    tracks: list[RawTrack]
    repairs: dict[str, int] = field(default_factory=dict)


def parse_smf(data: bytes, max_events: int) -> RawFile:
    """Parse MIDI file bytes. Raises SmfError for what cannot be read, or past `max_events`."""
    if data[:4] != b"MThd" or len(data) < 14:
        raise SmfError("not a MIDI file (no MThd header)")
    header_len = int.from_bytes(data[4:8], "big")
    fmt = int.from_bytes(data[8:10], "big")
    division = int.from_bytes(data[12:14], "big", signed=True)
    raw = RawFile(fmt, division, [])
    pos = 8 + header_len
    num_events = 0
    while pos + 8 <= len(data):
        chunk_id, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        start, pos = pos + 8, pos + 8 + length
        if chunk_id != b"MTrk":
            _count(raw.repairs, "unknown chunks skipped")
            continue
        if pos > len(data):
            raise SmfError("truncated MIDI file (a track runs past the end of the file)")
        track = _parse_track(data, start, pos, raw.repairs)
        num_events += track.num_events
        if num_events > max_events:
            raise SmfError(f"over {max_events} events, the limit for one file")
        raw.tracks.append(track)
    if pos < len(data):
        _count(raw.repairs, "stray bytes after the last chunk ignored")
    if not raw.tracks:
        raise SmfError("no track chunk (MTrk) in the file")
    return raw


def _parse_track(data: bytes, pos: int, end: int, repairs: dict[str, int]) -> RawTrack:
    track = RawTrack()
    tick = 0
    running = 0
    count = 0
    while pos < end:
        delta, pos = _varlen(data, pos, end)
        tick += delta
        if pos >= end:
            raise SmfError("truncated MIDI file (a track ends in the middle of an event)")
        status = data[pos]
        count += 1
        if status == 0xFF:
            if pos + 1 >= end:
                raise SmfError("truncated MIDI file (a track ends in the middle of an event)")
            kind = data[pos + 1]
            length, pos = _varlen(data, pos + 2, end)
            if pos + length > end:
                raise SmfError("truncated MIDI file (a meta event runs past its track)")
            if kind == 0x2F:
                break
            if kind in _KEPT_META:
                track.meta.append((tick, kind, data[pos : pos + length]))
            pos += length
        elif status in (0xF0, 0xF7):
            length, pos = _varlen(data, pos + 1, end)
            if pos + length > end:
                raise SmfError("truncated MIDI file (a SysEx event runs past its track)")
            pos += length
        elif status >= 0xF0:
            _count(repairs, "system messages that do not belong in a file skipped")
            pos += 1 + _SYSTEM_DATA_BYTES.get(status, 0)
        else:
            if status >= 0x80:
                running = status
                pos += 1
            elif not running:
                raise SmfError("corrupt MIDI data (a data byte with no status before it)")
            size = 1 if (running & 0xF0) in (0xC0, 0xD0) else 2
            payload = data[pos : pos + size]
            if len(payload) < size or pos + size > end:
                raise SmfError("truncated MIDI file (a track ends in the middle of an event)")
            if max(payload) >= 0x80:  # a status byte cut this message short: drop it
                _count(repairs, "incomplete channel messages dropped")
                pos += next(i for i, b in enumerate(payload) if b >= 0x80)
                continue
            pos += size
            kind = running & 0xF0
            if kind in (NOTE_ON, NOTE_OFF, PROGRAM):
                track.channel.append((tick, running, payload[0], payload[-1]))
    track.end_tick = tick
    track.num_events = count
    return track


def _varlen(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = 0
    for i in range(pos, min(pos + 4, end)):
        byte = data[i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i + 1
    if pos + 4 > end or end <= pos:
        raise SmfError("truncated MIDI file (a track ends in the middle of an event)")
    raise SmfError("corrupt MIDI data (a variable-length number longer than 4 bytes)")


def _count(repairs: dict[str, int], what: str) -> None:
    repairs[what] = repairs.get(what, 0) + 1


def write_varlen(value: int) -> bytes:
    """A MIDI variable-length quantity (7 bits a byte, high bit set on all but the last)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def track_chunk(events: list[tuple[int, bytes]], end_tick: int) -> bytes:
    """An MTrk chunk from (absolute tick, event bytes) pairs in time order, closed at `end_tick`."""
    body = bytearray()
    last = 0
    for tick, event in events:
        body += write_varlen(tick - last)
        body += event
        last = tick
    body += write_varlen(max(0, end_tick - last)) + b"\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def smf_bytes(fmt: int, ticks_per_beat: int, tracks: list[bytes]) -> bytes:
    """A whole MIDI file from its track chunks."""
    header = b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big")
    header += len(tracks).to_bytes(2, "big") + ticks_per_beat.to_bytes(2, "big")
    return header + b"".join(tracks)


def meta_event(kind: int, payload: bytes) -> bytes:
    return bytes((0xFF, kind)) + write_varlen(len(payload)) + payload
