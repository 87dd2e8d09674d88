"""The frame-rate driver: note timing, envelopes, volume scaling, arpeggios, defaults."""

from __future__ import annotations

import numpy as np
from synthkit import score_of, sec_to_tick

from chipline.chip import ChipNote, Instrument
from chipline.synth import driver, tables

FRAME_HZ = tables.REGIONS["ntsc"].frame_hz


def _frames(notes, voice="Pulse 1", instruments=None, num_frames=40, chip="nes"):
    score = score_of(notes, chip=chip, instruments=instruments)
    return driver.voice_frames(score, voice, num_frames, "ntsc")


def test_notes_start_and_end_on_the_nearest_frame():
    start_sec, end_sec = 0.1, 0.25
    note = ChipNote("Pulse 1", sec_to_tick(start_sec), sec_to_tick(end_sec), (69,))
    f = _frames([note], instruments={"Pulse 1": Instrument(2, (15,), ())})
    on = np.flatnonzero(f.volume)
    assert on[0] == round(start_sec * FRAME_HZ)
    assert on[-1] + 1 == round(end_sec * FRAME_HZ)


def test_envelope_release_and_volume_scaling():
    inst = Instrument(1, (15, 10, 5), (4, 2))
    note = ChipNote("Pulse 1", 0, sec_to_tick(5 / FRAME_HZ), (69,), volume=8)
    f = _frames([note], instruments={"Pulse 1": inst}, num_frames=10)
    # 15·8/15 = 8, 10·8/15 → 5, 5·8/15 → 2, held, then release 4·8/15 → 2, 2·8/15 → 1 (never 0).
    assert f.volume.tolist() == [8, 5, 2, 2, 2, 2, 1, 0, 0, 0]
    assert set(f.duty.tolist()) == {1}


def test_arpeggio_cycles_one_pitch_per_frame():
    note = ChipNote("Pulse 2", 0, sec_to_tick(7 / FRAME_HZ), (60, 64, 67))
    f = _frames([note], voice="Pulse 2", num_frames=7)
    expected = tables.pulse_period([60, 64, 67, 60, 64, 67, 60])
    assert f.period.tolist() == expected.tolist()


def test_timbre_overrides_instrument_duty_and_noise_uses_period_table():
    note = ChipNote("Noise", 0, sec_to_tick(0.1), (12,), timbre=1)
    f = _frames([note], voice="Noise", num_frames=4)
    assert f.period.tolist() == [tables.REGIONS["ntsc"].noise_periods[12]] * 4
    assert f.duty.tolist() == [1] * 4


def test_triangle_runs_at_full_level_while_it_sounds():
    note = ChipNote("Triangle", 0, sec_to_tick(3 / FRAME_HZ), (45,), volume=3)
    f = _frames([note], voice="Triangle", num_frames=6)
    assert f.volume.tolist() == [15, 15, 15, 0, 0, 0]


def test_a_new_note_cuts_the_previous_release():
    inst = Instrument(2, (15,), (9, 9, 9, 9, 9))
    notes = [
        ChipNote("Pulse 1", 0, sec_to_tick(2 / FRAME_HZ), (69,)),
        ChipNote("Pulse 1", sec_to_tick(4 / FRAME_HZ), sec_to_tick(5 / FRAME_HZ), (72,)),
    ]
    f = _frames(notes, instruments={"Pulse 1": inst}, num_frames=7)
    assert f.volume.tolist() == [15, 15, 9, 9, 15, 9, 9]
    assert f.period[4] == tables.pulse_period(72)


def test_missing_instruments_default_per_voice_kind():
    score = score_of([])
    for voice in ("Pulse 1", "Triangle", "Noise"):
        kind = driver.VOICES[voice].kind
        assert driver.instrument_for(score, voice) == driver.DEFAULT_INSTRUMENTS[kind]
