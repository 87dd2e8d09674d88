"""Test helpers for the REAPER bridge: a user-style template, arranged songs, and readers that
check our `.rpp` output independently of the code that wrote it (via the `rpp` library and plain
indentation, never via chipline's own chunk splitter)."""

from __future__ import annotations

from pathlib import Path

import rpp

from chipline.score import Note, Song, Tempo, TimeSignature

# A template shaped like a REAPER-saved one, with what real templates contain: CRLF line endings,
# a blank line, tokens REAPER quotes though `rpp` would not (`"nesvst.dll"`), an opaque VSTi state,
# a voice track with an old item, a non-voice bus track, a non-voice track whose item stays, a
# voice track without notes in the job (its old item goes), a voice under another name (mapped),
# a secondary render format and a tempo envelope that must not survive.
USER_TEMPLATE = "\r\n".join(
    [
        '<REAPER_PROJECT 0.1 "7.27/win64" 1734702480',
        "  RIPPLE 0",
        '  RECORD_PATH "Recordings" ""',
        '  RENDER_FILE "C:\\old renders"',
        "  RENDER_PATTERN old",
        "  RENDER_FMT 0 2 0",
        "  RENDER_RANGE 2 0 0 18 1000",
        "  <RENDER_CFG",
        "    ZXZhdxgAAQ==",
        "  >",
        "  <RENDER_CFG2",
        "    bDNwbYAAAAAAAAAABQAAAP////8EAAAAgAAAAAAAAAA=",
        "  >",
        "",
        "  TEMPO 90 3 4",
        "  <TEMPOENVEX",
        "    PT 0 90 1",
        "    PT 4 200 1",
        "  >",
        "  <TRACK {11111111-2222-3333-4444-555555555555}",
        "    NAME Lead",
        "    VOLPAN 0.8 0 -1 -1 1",
        "    <FXCHAIN",
        "      SHOW 0",
        "      BYPASS 0 0 0",
        '      <VST "VSTi: NES VST (Magic Bytes)" "nesvst.dll" 0 ""'
        ' 1313166164<56535453656e6573766e7374> ""',
        "        dHNlbu9e7f4AAAAAAgAAAAEAAAAAAAAAAgAAAAAAAAA8AAAAAQAAAAAAEAA=",
        "        AQAAAAIAAAADAAAA/////wAAgD8=",
        "        AFByb2dyYW0gMQAQAAAA",
        "      >",
        '      PRESETNAME "Square 50%"',
        "      FLOATPOS 0 0 0 0",
        "      FXID {AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}",
        "      WAK 0 0",
        "    >",
        "    <ITEM",
        "      POSITION 3",
        "      LENGTH 2",
        "      <SOURCE WAVE",
        '        FILE "old take.wav"',
        "      >",
        "    >",
        "  >",
        "  <TRACK {22222222-2222-3333-4444-555555555555}",
        '    NAME "Pulse 2"',
        "    <FXCHAIN",
        "      BYPASS 0 0 0",
        '      <JS "chip/pulse voice.jsfx" ""',
        '        1 0.5 - - - "duty 25"',
        "      >",
        "      WAK 0 0",
        "    >",
        "  >",
        "  <TRACK {33333333-2222-3333-4444-555555555555}",
        "    NAME Triangle",
        "    <FXCHAIN",
        "      BYPASS 0 0 0",
        '      <JS chip/tri.jsfx `it\'s "tri"`',
        "        0 - -",
        "      >",
        "    >",
        "  >",
        "  <TRACK {44444444-2222-3333-4444-555555555555}",
        "    NAME Noise",
        "  >",
        "  <TRACK {55555555-2222-3333-4444-555555555555}",
        '    NAME "Reverb bus"',
        "    <FXCHAIN",
        "      BYPASS 0 0 0",
        "    >",
        "  >",
        "  <TRACK {66666666-2222-3333-4444-555555555555}",
        "    NAME Ambience",
        "    <ITEM",
        "      POSITION 0",
        "      LENGTH 9",
        "      <SOURCE WAVE",
        '        FILE "wind.wav"',
        "      >",
        "    >",
        "  >",
        "  <TRACK {77777777-2222-3333-4444-555555555555}",
        '    NAME "VRC6 Saw"',
        "    <ITEM",
        "      POSITION 0",
        "      LENGTH 1",
        "    >",
        "  >",
        ">",
        "",
    ]
)
USER_MAP = {"Pulse 1": "Lead"}


def nes_song(ticks_per_beat: int = 480, with_tempo_change: bool = False) -> Song:
    """An arranged four-voice song (tracks named by voice; track 0 is the conductor)."""
    q = ticks_per_beat
    notes = [
        Note(0, q, 72, 100, 0, 80, 1),
        Note(q, 2 * q, 74, 90, 0, 80, 1),
        Note(2 * q, 2 * q + q // 2, 74, 80, 0, 1, 1),  # same pitch again, its own duty (program)
        Note(2 * q + q // 2, 4 * q, 76, 70, 0, 80, 1),
        Note(0, 2 * q, 64, 64, 1, 0, 2),
        Note(2 * q, 3 * q, 67, 64, 1, 0, 2),
        Note(0, 4 * q, 40, 127, 2, 0, 3),
        Note(q, q + q // 4, 12, 100, 3, 0, 4),
        Note(3 * q, 3 * q + q // 4, 3, 100, 3, 0, 4),
    ]
    tempos = (Tempo(0, 400_000),) + ((Tempo(2 * q, 600_000),) if with_tempo_change else ())
    return Song(
        ticks_per_beat=q,
        notes=tuple(sorted(notes)),
        tempos=tempos,
        time_signatures=(TimeSignature(0, 3, 4),),
        track_names=("", "Pulse 1", "Pulse 2", "Triangle", "Noise"),
        end_tick=6 * q,
    )


def song_notes_by_voice(song: Song) -> dict[str, list[tuple[int, int, int]]]:
    """(start_tick, end_tick, pitch) per voice, sorted."""
    out: dict[str, list[tuple[int, int, int]]] = {}
    for n in song.notes:
        out.setdefault(song.track_names[n.track], []).append((n.start_tick, n.end_tick, n.pitch))
    return {k: sorted(v) for k, v in out.items()}


def song_programs_by_voice(song: Song) -> dict[str, list[tuple[int, int]]]:
    """(tick, program) wherever a voice's program changes, from its first note on."""
    out: dict[str, list[tuple[int, int]]] = {}
    for n in sorted(song.notes):
        changes = out.setdefault(song.track_names[n.track], [])
        if not changes or changes[-1][1] != n.program:
            changes.append((n.start_tick, n.program))
    return out


def item_programs(track: rpp.Element) -> list[tuple[int, int]]:
    """(tick, program) of the program changes in the track's MIDI item."""
    tick, changes = 0, []
    for row in track.find("ITEM").find("SOURCE"):
        if isinstance(row, list) and row[0] in ("E", "e"):
            tick += int(row[1])
            if int(row[2], 16) & 0xF0 == 0xC0:
                changes.append((tick, int(row[3], 16)))
    return changes


def track_by_name(root: rpp.Element, name: str) -> rpp.Element:
    for track in root.findall("TRACK"):
        found = track.find("NAME")
        if found is not None and found[1] == name:
            return track
    raise AssertionError(f"no track {name!r}")


def item_notes(track: rpp.Element) -> tuple[int, list[tuple[int, int, int]]]:
    """(ticks per quarter, [(start_tick, end_tick, pitch)]) decoded from the track's MIDI item."""
    source = track.find("ITEM").find("SOURCE")
    assert source.attrib[0] == "MIDI"
    hasdata = source.find("HASDATA")
    assert hasdata[1] == "1"
    assert hasdata[3] == "QN"
    tick, sounding, notes = 0, {}, []
    for row in source:
        if not isinstance(row, list) or row[0] not in ("E", "e"):
            continue
        tick += int(row[1])
        status, pitch, velocity = (int(x, 16) for x in row[2:5])
        if status & 0xF0 == 0x90 and velocity:
            sounding[pitch] = tick
        elif status & 0xF0 in (0x80, 0x90):
            notes.append((sounding.pop(pitch), tick, pitch))
    assert not sounding
    return int(hasdata[2]), sorted(notes)


def chunk_text(text: str, track_name_line: str, tag: str) -> list[str]:
    """Lines of the first `<tag` chunk after `track_name_line`, found by indentation alone."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == track_name_line)
    begin = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(f"<{tag}"))
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    end = next(i for i in range(begin + 1, len(lines)) if lines[i] == indent + ">")
    return lines[begin : end + 1]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path
