"""The `.rpp` writer, checked by parsing what it writes with the independent `rpp` library."""

from __future__ import annotations

import base64
import struct
from dataclasses import replace
from pathlib import Path

import pytest
import rpp
from reaper_fixtures import (
    USER_MAP,
    USER_TEMPLATE,
    chunk_text,
    item_notes,
    item_programs,
    nes_song,
    song_notes_by_voice,
    song_programs_by_voice,
    track_by_name,
    write,
)

from chipline.bridge.project import ProjectConfig, default_template, write_project
from chipline.errors import BridgeError
from chipline.score import Note

# The MP3 render configuration REAPER 7.27 saved for 128 kbps CBR, quality "fast" (the <RENDER_CFG>
# of a REAPER-saved project, Ultraschall's test project at commit 6c28a3b; research/reaper.md §3.3).
REAPER_SAVED_MP3_CFG = "bDNwbYAAAAAAAAAABQAAAP////8EAAAAgAAAAAAAAAA="


def _build(tmp_path: Path, song=None, **cfg) -> tuple[str, rpp.Element]:
    template = write(tmp_path / "user.RPP", USER_TEMPLATE)
    config = ProjectConfig(output_dir=tmp_path / "out put", track_names=USER_MAP, **cfg)
    path, text = write_project(template, song or nes_song(), config, tmp_path / "job.rpp")
    assert path.read_text() == text
    return text, rpp.loads(path.read_text())


def test_notes_per_voice_equal_the_arranged_midi(tmp_path):
    song = nes_song()
    _, root = _build(tmp_path, song)
    expected = song_notes_by_voice(song)
    programs = song_programs_by_voice(song)
    assert programs["Pulse 1"] == [(0, 80), (960, 1), (1200, 80)]
    for voice, track_name in [
        ("Pulse 1", "Lead"),
        ("Pulse 2", "Pulse 2"),
        ("Triangle", "Triangle"),
        ("Noise", "Noise"),
    ]:
        tpq, notes = item_notes(track_by_name(root, track_name))
        assert tpq == song.ticks_per_beat
        assert notes == expected[voice], voice
        assert item_programs(track_by_name(root, track_name)) == programs[voice], voice


def test_each_voice_track_gets_exactly_one_item_and_others_none(tmp_path):
    _, root = _build(tmp_path)
    assert len(track_by_name(root, "Lead").findall("ITEM")) == 1  # the old item is gone
    assert track_by_name(root, "Reverb bus").findall("ITEM") == []
    assert track_by_name(root, "VRC6 Saw").findall("ITEM") == []  # a voice track: old item gone
    (kept,) = track_by_name(root, "Ambience").findall("ITEM")  # not a voice: the user's item stays
    assert kept.find("SOURCE").find("FILE")[1] == "wind.wav"
    item = track_by_name(root, "Lead").find("ITEM")
    assert float(item.find("POSITION")[1]) == 0
    # 6 beats at 150 qpm = 2.4 s: the item spans the song to its end, not just the last note.
    assert float(item.find("LENGTH")[1]) == pytest.approx(2.4)


@pytest.mark.parametrize(
    "name_line", ["NAME Lead", 'NAME "Pulse 2"', "NAME Triangle", 'NAME "Reverb bus"']
)
def test_fx_chains_are_copied_byte_for_byte(tmp_path, name_line):
    text, _ = _build(tmp_path)
    assert chunk_text(text, name_line, "FXCHAIN") == chunk_text(USER_TEMPLATE, name_line, "FXCHAIN")


def test_everything_but_items_and_settings_is_kept(tmp_path):
    text, root = _build(tmp_path)
    template_root = rpp.loads("\n".join(x for x in USER_TEMPLATE.splitlines() if x.strip()))
    assert [t.attrib for t in root.findall("TRACK")] == [
        t.attrib for t in template_root.findall("TRACK")
    ]
    assert text.splitlines()[0] == '<REAPER_PROJECT 0.1 "7.27/win64" 1734702480'
    assert 'RECORD_PATH "Recordings" ""' in text
    assert "\r" not in text
    assert "\n\n" not in text


def test_render_settings(tmp_path):
    _, root = _build(tmp_path, sample_rate=44100, tail_sec=1.5)
    assert root.find("RENDER_FILE")[1] == str(tmp_path / "out put")
    assert root.find("RENDER_PATTERN")[1] == "chipline"
    assert root.find("RENDER_FMT")[1:] == ["0", "2", "44100"]
    assert root.find("RENDER_RANGE")[1:] == ["1", "0", "0", "18", "1500"]  # whole project + tail
    assert root.find("RENDER_STEMS")[1] == "0"  # master mix
    assert root.find("RENDER_CFG2") is None  # no second file REAPER could prompt about
    assert len(root.findall("RENDER_FILE")) == 1
    assert len(root.findall("RENDER_CFG")) == 1
    blob = base64.b64decode(root.find("RENDER_CFG")[0])
    assert blob[:4] == b"evaw"
    assert blob[4] == 24


@pytest.mark.parametrize("kbps", [128, 192, 320])
def test_mp3_render_config(tmp_path, kbps):
    _, root = _build(tmp_path, render_format="mp3", mp3_kbps=kbps)
    cfg = root.find("RENDER_CFG")[0]
    if kbps == 128:
        assert cfg == REAPER_SAVED_MP3_CFG  # byte-identical to what REAPER itself saved
    fields = struct.unpack("<4s7i", base64.b64decode(cfg))
    assert fields[0] == b"l3pm"
    assert fields[1] == kbps
    assert fields[6] == kbps


def test_tempo_and_time_signature(tmp_path):
    _, root = _build(tmp_path)
    assert root.find("TEMPO")[1:] == ["150", "3", "4"]
    assert root.find("TEMPOENVEX") is None  # the template's 90 -> 200 ramp must not survive


def test_tempo_changes_become_envelope_points(tmp_path):
    song = nes_song(with_tempo_change=True)
    _, root = _build(tmp_path, song)
    points = [row for row in root.find("TEMPOENVEX") if row[0] == "PT"]
    assert [(float(p[1]), float(p[2])) for p in points] == [(0.0, 150.0), (0.8, 100.0)]
    assert int(points[0][4]) == 3 + (4 << 16)  # 3/4 packed as REAPER packs time signatures


def test_uneven_ticks_per_beat_keep_exact_timing(tmp_path):
    song = nes_song(ticks_per_beat=97)
    _, root = _build(tmp_path, song)
    assert item_notes(track_by_name(root, "Triangle")) == (
        97,
        song_notes_by_voice(song)["Triangle"],
    )


def test_missing_voice_track_lists_expected_and_found(tmp_path):
    template = write(tmp_path / "t.RPP", USER_TEMPLATE)
    with pytest.raises(BridgeError) as info:
        write_project(template, nes_song(), ProjectConfig(), tmp_path / "job.rpp")
    message = str(info.value)
    assert "'Pulse 1'" in message.split("Expected")[0]
    assert "'Lead'" in message.split("found")[1]
    assert "'Reverb bus'" in message
    assert not (tmp_path / "job.rpp").exists()


def test_unarranged_midi_is_refused(tmp_path):
    song = nes_song()
    song = replace(song, notes=(*song.notes, Note(0, 10, 60, 100, 0, 0, 0)))
    with pytest.raises(BridgeError, match="not named by a voice"):
        _build(tmp_path, song)


def test_garbage_template(tmp_path):
    template = write(tmp_path / "t.RPP", "<REAPER_PROJECT 0.1\n  <TRACK\n")
    with pytest.raises(BridgeError, match="t.RPP"):
        write_project(template, nes_song(), ProjectConfig(), tmp_path / "job.rpp")


def test_unknown_voice_in_mapping():
    with pytest.raises(BridgeError, match="unknown voice 'Pulse 3'"):
        ProjectConfig(track_names={"Pulse 3": "x"})


def test_default_template_has_every_voice_with_our_jsfx(tmp_path):
    root = rpp.loads(default_template().read_text())
    from chipline.chip import VOICES

    for voice in VOICES:
        js = track_by_name(root, voice).find("FXCHAIN").find("JS")
        assert js.attrib[0] == "chipline/chipline_voice.jsfx"
    assert (default_template().parent / "chipline_voice.jsfx").is_file()
    path, _ = write_project(default_template(), nes_song(), ProjectConfig(), tmp_path / "j.rpp")
    assert (
        item_notes(track_by_name(rpp.loads(path.read_text()), "Noise"))[1]
        == song_notes_by_voice(nes_song())["Noise"]
    )
