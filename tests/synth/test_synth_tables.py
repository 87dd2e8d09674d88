"""Period tables: the trackers' note-table rule, checked against an exact-decimal recomputation,
the anchor values and per-octave tuning errors in chip.md §1.9."""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest

from chipline.synth import tables

# chip.md §1.9: largest |cents error| per octave (C..B) of the NTSC / PAL pulse tables.
CENTS_MAX = {
    "ntsc": {2: 0.68, 3: 1.56, 4: 3.77, 5: 4.20, 6: 12.0, 7: 19.2, 8: 36.7},
    "pal": {2: 0.82, 3: 1.45, 4: 3.29, 5: 7.09, 6: 13.1, 7: 27.9, 8: 44.6},
}
CPU_HZ = {"ntsc": Decimal(21_477_272) / 12, "pal": Decimal(26_601_712) / 16}


def _exact_period(midi: int, region: str, divisor: int, top: int) -> int:
    """t = round(f_CPU / (divisor · f)) − 1 in 40-digit decimal arithmetic, clamped."""
    getcontext().prec = 40
    freq = Decimal(440) * (Decimal(2) ** (Decimal(midi - 69) / 12))
    t = int((CPU_HZ[region] / (divisor * freq) + Decimal("0.5")).to_integral_value("ROUND_FLOOR"))
    return min(max(t - 1, 0), top)


@pytest.mark.parametrize("region", ["ntsc", "pal"])
def test_note_table_follows_the_tracker_rule_exactly(region):
    table = tables.note_table(region)
    assert table.shape == (96,)
    expected = [_exact_period(m, region, 16, 0x7FF) for m in range(24, 120)]
    assert table.tolist() == expected


@pytest.mark.parametrize("region", ["ntsc", "pal"])
def test_triangle_and_vrc6_periods_follow_their_formulas(region):
    midi = np.arange(21, 109)
    assert tables.triangle_period(midi, region).tolist() == [
        _exact_period(m, region, 32, 0x7FF) for m in midi.tolist()
    ]
    assert tables.saw_period(midi, region).tolist() == [
        _exact_period(m, region, 14, 0xFFF) for m in midi.tolist()
    ]
    assert tables.vrc6_pulse_period(midi, region).tolist() == [
        _exact_period(m, region, 16, 0xFFF) for m in midi.tolist()
    ]


def test_anchor_values_from_the_hardware_docs():
    assert int(tables.pulse_period(69)) == 0x0FD  # A-440 → 440.40 Hz
    assert int(tables.pulse_period(33)) == 2033  # A1, the lowest pulse note
    assert int(tables.pulse_period(32)) == 0x7FF  # below A1 the 11-bit timer is exhausted
    assert int(tables.triangle_period(21)) == 2033  # the triangle reaches A0
    assert int(tables.pulse_period(32, "pal")) <= 0x7FF  # PAL reaches G#1
    freq = tables.REGIONS["ntsc"].cpu_hz / (16 * (0x0FD + 1))
    assert 1200 * np.log2(freq / 440) == pytest.approx(1.56, abs=0.01)


@pytest.mark.parametrize("region", ["ntsc", "pal"])
def test_tuning_error_per_octave_matches_the_published_table(region):
    cpu_hz = tables.REGIONS[region].cpu_hz
    for octave, cents_max in CENTS_MAX[region].items():
        midi = np.arange(12 * (octave + 1), 12 * (octave + 2))
        freq = cpu_hz / (16 * (tables.pulse_period(midi, region) + 1))
        cents = 1200 * np.log2(freq / tables.midi_to_hz(midi))
        assert np.abs(cents).max() == pytest.approx(cents_max, abs=0.006 * max(1, cents_max))


def test_frame_rates():
    assert tables.REGIONS["ntsc"].frame_hz == pytest.approx(60.0988, abs=1e-4)
    assert tables.REGIONS["pal"].frame_hz == pytest.approx(50.0070, abs=1e-4)


def _lfsr_period(tap: int) -> int:
    state, seen = 1, {}
    for step in range(40_000):
        if state in seen:
            return step - seen[state]
        seen[state] = step
        state = (state >> 1) | ((((state >> tap) ^ state) & 1) << 14)
    raise AssertionError("no period")


def test_lfsr_periods_from_power_up_state():
    assert len(tables.lfsr_off_bits(False)) == _lfsr_period(1) == 32767
    assert len(tables.lfsr_off_bits(True)) == _lfsr_period(6) == 93
    assert tables.lfsr_off_bits(False)[0] == 0  # state 1 has bit 0 set: silent
