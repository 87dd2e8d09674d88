"""Property tests: any valid score renders to finite, bounded, exact-length, repeatable audio."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from synthkit import score_of

from chipline.chip import CHIP_VOICES, VOICES, ChipNote
from chipline.synth import SynthConfig, render, render_stems


@st.composite
def scores(draw):
    chip = draw(st.sampled_from(["nes", "vrc6"]))
    notes = []
    for voice in CHIP_VOICES[chip]:
        tick = 0
        for _ in range(draw(st.integers(0, 3))):
            tick += draw(st.integers(0, 120))
            length = draw(st.integers(1, 200))
            low, high = (0, 15) if VOICES[voice].kind == "noise" else (0, 127)
            pitches = tuple(draw(st.lists(st.integers(low, high), min_size=1, max_size=4)))
            notes.append(
                ChipNote(
                    voice,
                    tick,
                    tick + length,
                    pitches,
                    volume=draw(st.integers(0, 15)),
                    timbre=draw(st.one_of(st.none(), st.integers(0, 7))),
                )
            )
            tick += length
    return score_of(notes, chip=chip)


@given(
    score=scores(),
    sample_rate=st.sampled_from([22050, 44100, 48000]),
    region=st.sampled_from(["ntsc", "pal"]),
    filter_name=st.sampled_from(["clean", "famicom", "nes"]),
    num_samples=st.integers(0, 30000),
)
def test_any_score_renders_bounded_and_repeatable(
    score, sample_rate, region, filter_name, num_samples
):
    config = SynthConfig(sample_rate, region, filter_name)
    y = render(score, config, num_samples)
    assert y.shape == (num_samples,)
    assert y.dtype == np.float32
    assert np.isfinite(y).all()
    assert np.abs(y).max(initial=0.0) <= 1.0
    np.testing.assert_array_equal(render(score, config, num_samples), y)
    stems = render_stems(score, config, num_samples)
    assert list(stems) == list(score.voices)
    assert all(s.shape == (num_samples,) and np.isfinite(s).all() for s in stems.values())


@given(score=scores(), num_samples=st.integers(0, 20000), extra=st.integers(1, 20000))
def test_a_longer_render_starts_with_the_shorter_one(score, num_samples, extra):
    """Rendering is causal: asking for more samples never changes the earlier ones."""
    short = render(score, SynthConfig(), num_samples)
    np.testing.assert_array_equal(
        render(score, SynthConfig(), num_samples + extra)[:num_samples], short
    )
