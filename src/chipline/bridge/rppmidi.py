"""An arranged Song as REAPER project text: one in-project MIDI item per voice, the tempo map."""

from __future__ import annotations

from chipline.bridge.rppchunk import quote
from chipline.chip import VOICES
from chipline.errors import BridgeError
from chipline.score import Note, Song

ALL_NOTES_OFF = "b0 7b 00"  # REAPER ends every MIDI source with CC 123 on channel 1
SQUARE_SHAPE = 1  # tempo envelope point shape: jump (no ramp)


def voice_notes(song: Song) -> dict[str, list[Note]]:
    """The notes of each voice, found by track name; voices without notes are left out.

    Raises:
        BridgeError: notes sit on a track not named by a voice (the MIDI is not arranged).
    """
    by_voice: dict[str, list[Note]] = {}
    strays: set[str] = set()
    for note in song.notes:
        name = song.track_names[note.track] if note.track < len(song.track_names) else ""
        if name in VOICES:
            by_voice.setdefault(name, []).append(note)
        else:
            strays.add(name or f"track {note.track + 1} (unnamed)")
    if strays:
        raise BridgeError(
            f"notes on track(s) not named by a voice: {', '.join(sorted(map(repr, strays)))}. "
            f"An arranged MIDI has one track per voice named {', '.join(VOICES)}; "
            "arrange the MIDI first."
        )
    return by_voice


def midi_events(notes: list[Note], end_tick: int) -> list[tuple[int, int, int, int]]:
    """(delta_tick, status, data1, data2) for `notes`, then all-notes-off at `end_tick`.

    A program change precedes the first note and every note whose program differs from the one
    before (the arranged MIDI carries a note's own duty as its program). At one tick, note-offs
    come first, then program changes, then note-ons, so repeated pitches stay separate notes.
    """
    timed = []
    program = None
    for n in sorted(notes, key=lambda n: (n.start_tick, n.pitch)):
        if n.program != program:
            timed.append((n.start_tick, 1, 0xC0 | n.channel, n.program, 0))
            program = n.program
        timed.append((n.start_tick, 2, 0x90 | n.channel, n.pitch, n.velocity))
        timed.append((n.end_tick, 0, 0x80 | n.channel, n.pitch, 0))
    timed.sort()
    events, last = [], 0
    for tick, _, status, d1, d2 in timed:
        events.append((tick - last, status, d1, d2))
        last = tick
    events.append((max(0, end_tick - last), 0xB0, 0x7B, 0x00))
    return events


def midi_item_lines(song: Song, voice: str, notes: list[Note], indent: str) -> list[str]:
    """Lines of an `<ITEM` holding the voice's notes as an in-project MIDI source at `indent`.

    The source keeps the song's ticks per quarter note (`HASDATA 1 <tpb> QN`), so timing is exact.
    """
    end_tick = max([song.end_tick] + [n.end_tick for n in notes])
    length_sec = float(song.tick_to_sec(end_tick))
    i1, i2 = indent + "  ", indent + "    "
    lines = [
        f"{indent}<ITEM",
        f"{i1}POSITION 0",
        f"{i1}LENGTH {length_sec:.14g}",
        f"{i1}LOOP 0",
        f"{i1}NAME {quote(voice)}",
        f"{i1}<SOURCE MIDI",
        f"{i2}HASDATA 1 {song.ticks_per_beat} QN",
    ]
    for delta, status, d1, d2 in midi_events(notes, end_tick):
        lines.append(f"{i2}E {delta} {status:02x} {d1:02x} {d2:02x}")
    lines += [f"{i1}>", f"{indent}>"]
    return lines


def tempo_lines(song: Song, indent: str) -> list[str]:
    """`TEMPO bpm num den`, plus a tempo envelope when the tempo or metre changes."""
    sig = song.time_signatures[0]
    lines = [f"{indent}TEMPO {_bpm(song.tempos[0].us_per_beat)} {sig.numerator} {sig.denominator}"]
    if len(song.tempos) == 1 and len(song.time_signatures) == 1:
        return lines
    ticks = sorted({t.tick for t in song.tempos} | {s.tick for s in song.time_signatures})
    lines.append(f"{indent}<TEMPOENVEX")
    i1 = indent + "  "
    lines += [f"{i1}ACT 1 -1", f"{i1}VIS 1 0 1", f"{i1}DEFSHAPE {SQUARE_SHAPE} -1 -1"]
    for tick in ticks:
        us = [t.us_per_beat for t in song.tempos if t.tick <= tick][-1]
        sec = float(song.tick_to_sec(tick))
        point = f"{i1}PT {sec:.14g} {_bpm(us)} {SQUARE_SHAPE}"
        starting = [s for s in song.time_signatures if s.tick == tick]
        if starting:  # time signature packed as numerator + (denominator << 16)
            point += f" {starting[0].numerator + (starting[0].denominator << 16)}"
        lines.append(point)
    lines.append(f"{indent}>")
    return lines


def _bpm(us_per_beat: int) -> str:
    return f"{60_000_000 / us_per_beat:.10g}"
