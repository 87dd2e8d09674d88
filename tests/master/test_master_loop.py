"""Loop assembly: around the seam a looped file plays exactly what a continuous render plays."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from chip_doubles import fake_arrange, make_song, sine_render
from chipline.chip import ChipScore
from chipline.master.loop import (
    CONTINUE_SEC,
    SEAM_FADE_SEC,
    assemble,
    performance,
    piece_samples,
    render_length,
    repeat_body,
)

SR = 44100
SEAM_TOL = 1e-4  # chip.md §8.2 item 8: max |diff| at the seam before encoding
EXACT = round((CONTINUE_SEC - SEAM_FADE_SEC) * SR) - 64  # samples after the seam that are exact


def drifting_render(score: ChipScore, sample_rate: int, num_samples: int) -> np.ndarray:
    """A stateful back end: oscillators run free from sample 0 (as a chip's timers do), so a
    continuous render never repeats exactly: a loop body can equal it at one seam, not all."""
    t = np.arange(num_samples) / sample_rate
    out = np.zeros(num_samples)
    for note in score.notes:
        a, b = (
            round(float(s) * sample_rate)
            for s in score.tick_to_sec([note.start_tick, note.end_tick])
        )
        hz = 90.0 if note.voice == "Noise" else 440.0 * 2 ** ((note.pitches[0] - 69) / 12)
        out[a : min(b, num_samples)] += 0.2 * np.sign(
            np.sin(2 * np.pi * hz * t[a : min(b, num_samples)])
        )
    return out.astype(np.float32)


def _file(render, score):
    played = performance(score)
    return assemble(render(played, SR, render_length(played, SR)), score, SR)


def _looped(file: np.ndarray, loop_start: int, times: int) -> np.ndarray:
    """What a player that loops the file from `loop_start` plays."""
    return np.concatenate([file] + [file[loop_start:]] * (times - 1))


@pytest.mark.parametrize("render", [sine_render, drifting_render])
def test_seam_matches_continuous_render(render):
    score = fake_arrange(make_song(num_bars=2))
    file, points = _file(render, score)
    assert points.start_sample == 0
    assert points.length_samples == len(file) == piece_samples(score, SR)[1] == 4 * SR
    continuous = render(repeat_body(score, 3), SR, 3 * len(file))
    played = _looped(file, 0, 3)
    seam = len(file)
    window = slice(seam - SR, seam + EXACT)
    assert np.abs(played[window] - continuous[window]).max() <= SEAM_TOL
    if render is sine_render:  # stateless: every pass after the first is exact
        assert np.abs(played[SR:] - continuous[SR : len(played)]).max() <= SEAM_TOL
    else:  # a free-running phase never repeats: passes differ, in the blend, not at the seam
        assert np.abs(played - continuous[: len(played)]).max() > 0.1


def test_first_pass_carries_the_ringing_end():
    score = fake_arrange(make_song(num_bars=2))
    file, _ = _file(sine_render, score)
    plain = sine_render(score, SR, SR)
    assert np.abs(file[:2000] - plain[:2000]).max() > 0.01  # last notes ring into the start
    later = slice(3 * SR, 4 * SR)  # past the continuation: the first pass itself
    np.testing.assert_array_equal(file[later], sine_render(score, SR, 4 * SR)[later])


def test_intro_and_loop_body():
    score = replace(fake_arrange(make_song(num_bars=3)), loop_start_tick=4 * 480)
    file, points = _file(sine_render, score)
    assert points.start_sample == 2 * SR  # bar 2 of 4/4 at 120 qpm starts at 2 s
    assert points.length_samples == 4 * SR
    np.testing.assert_array_equal(file[: points.start_sample], sine_render(score, SR, 2 * SR))
    continuous = sine_render(repeat_body(score, 2), SR, len(file) + points.length_samples)
    played = _looped(file, points.start_sample, 2)
    window = slice(len(file) - SR, len(file) + EXACT)
    assert np.abs(played[window] - continuous[window]).max() <= SEAM_TOL


def test_no_loop_keeps_natural_tail_and_trims_silence():
    score = fake_arrange(make_song(num_bars=1))
    assert performance(score, loop=False) is score
    audio = sine_render(score, SR, render_length(score, SR))
    file, points = assemble(audio, score, SR, loop=False)
    end = piece_samples(score, SR)[1]
    assert points.length_samples == 0
    assert end < len(file) < len(audio)  # kept ringing past the bar line, dropped the silence
    assert file[-1] == 0.0
    np.testing.assert_array_equal(file[:end], audio[:end])
