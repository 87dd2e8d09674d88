"""The public render API: shapes, dtype, range, determinism, stems, errors, VRC6."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from synthkit import score_of, sec_to_tick

from chipline.chip import ChipNote
from chipline.errors import ConfigError, RenderError
from chipline.synth import SynthConfig, default_num_samples, render, render_stems


def _band(chip="nes"):
    notes = [
        ChipNote("Pulse 1", 0, sec_to_tick(0.4), (72, 76, 79), volume=12),
        ChipNote("Pulse 1", sec_to_tick(0.4), sec_to_tick(0.8), (74,)),
        ChipNote("Pulse 2", 0, sec_to_tick(0.8), (64,), volume=9, timbre=1),
        ChipNote("Triangle", 0, sec_to_tick(0.6), (40,)),
        ChipNote("Noise", sec_to_tick(0.2), sec_to_tick(0.3), (1,)),
        ChipNote("Noise", sec_to_tick(0.5), sec_to_tick(0.7), (12,), timbre=1),
    ]
    if chip == "vrc6":
        notes += [
            ChipNote("VRC6 Pulse 1", 0, sec_to_tick(0.8), (67,), timbre=5),
            ChipNote("VRC6 Pulse 2", 0, sec_to_tick(0.8), (71,), timbre=0),
            ChipNote("VRC6 Saw", 0, sec_to_tick(0.8), (48,)),
        ]
    return score_of(notes, chip=chip, end_sec=1.0)


@pytest.mark.parametrize("chip", ["nes", "vrc6"])
@pytest.mark.parametrize("filter_name", ["clean", "famicom", "nes"])
def test_render_is_mono_float32_in_range(chip, filter_name):
    score = _band(chip)
    config = SynthConfig(filter=filter_name)
    y = render(score, config)
    assert y.dtype == np.float32
    assert y.shape == (default_num_samples(score, config),)
    assert np.abs(y).max() <= 1.0
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) > 0.01  # it actually plays


def test_default_length_covers_end_and_release():
    score = _band()
    n = default_num_samples(score, SynthConfig())
    assert 44100 * 1.0 < n < 44100 * 1.3


def test_num_samples_is_exact():
    for n in (0, 1, 12345):
        assert render(_band(), num_samples=n).shape == (n,)


def test_same_input_renders_bit_identically():
    score = _band("vrc6")
    a, b = render(score), render(score)
    assert hashlib.sha256(a.tobytes()).digest() == hashlib.sha256(b.tobytes()).digest()


def test_stems_are_per_voice_and_sum_close_to_the_mix():
    score = _band()
    y = render(score)
    stems = render_stems(score)
    assert set(stems) == {"Pulse 1", "Pulse 2", "Triangle", "Noise"}
    assert all(s.shape == y.shape and s.dtype == np.float32 for s in stems.values())
    total = sum(s.astype(np.float64) for s in stems.values())
    residual = np.sqrt(np.mean((total - y) ** 2)) / np.sqrt(np.mean(y.astype(np.float64) ** 2))
    assert 0 < residual < 0.1  # only the pulse mixer's compression differs


def test_empty_score_renders_silence():
    y = render(score_of([], end_sec=0.5))
    assert y.shape == (default_num_samples(score_of([], end_sec=0.5), SynthConfig()),)
    assert not y.any()


def test_pal_is_slower_clock_same_length():
    score = _band()
    ntsc = render(score, SynthConfig(region="ntsc"), num_samples=20000)
    pal = render(score, SynthConfig(region="pal"), num_samples=20000)
    assert ntsc.shape == pal.shape
    assert not np.array_equal(ntsc, pal)


def test_notes_on_a_voice_the_chip_lacks_are_refused():
    score = score_of([ChipNote("VRC6 Saw", 0, 100, (48,))], chip="nes")
    with pytest.raises(RenderError, match="VRC6 Saw"):
        render(score)


@pytest.mark.parametrize("kwargs", [{"sample_rate": 100}, {"region": "dendy"}, {"filter": "warm"}])
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ConfigError):
        SynthConfig(**kwargs)
