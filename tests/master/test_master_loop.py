"""Loop assembly: the seam of a looped file equals a continuous performance of the loop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from chip_doubles import fake_arrange, make_song, sine_render
from chipline.master.loop import assemble, performance, piece_samples, render_length, repeat_body

SR = 44100
SEAM_TOL = 1e-4  # chip.md §8.2 item 8: max |diff| at the seam before encoding


def _playback(file: np.ndarray, loop_start: int, times: int) -> np.ndarray:
    """What a player that loops the file from `loop_start` plays: the file, then the body again."""
    return np.concatenate([file] + [file[loop_start:]] * (times - 1))


def test_seam_matches_continuous_render():
    score = fake_arrange(make_song(num_bars=2))
    file, points = assemble(sine_render(score, SR, render_length(score, SR)), score, SR)
    assert points.start_sample == 0
    assert points.length_samples == len(file) == piece_samples(score, SR)[1]
    twice = repeat_body(score, 3)
    continuous = sine_render(twice, SR, len(file) * 3)
    played = _playback(file, 0, 3)
    # from the middle of the first pass on (the first pass itself starts with the wrapped tail,
    # which a continuous performance has only from the second pass on)
    half = len(file) // 2
    assert np.abs(played[half:] - continuous[half : len(played)]).max() <= SEAM_TOL
    # the tail really rang across the seam: without wrapping the start would differ
    assert np.abs(file[:1000] - sine_render(score, SR, 1000)).max() > 0.01


def test_intro_and_loop_body():
    score = replace(fake_arrange(make_song(num_bars=3)), loop_start_tick=4 * 480)
    played = performance(score)
    assert played.end_tick == 2 * score.end_tick - score.loop_start_tick
    file, points = assemble(sine_render(played, SR, render_length(played, SR)), score, SR)
    np.testing.assert_array_equal(file[: points.start_sample], sine_render(score, SR, 2 * SR))
    assert points.start_sample == 2 * SR  # bar 2 of 4/4 at 120 qpm starts at 2 s
    assert points.length_samples == 4 * SR
    continuous = sine_render(repeat_body(score, 2), SR, len(file) + points.length_samples)
    played = _playback(file, points.start_sample, 2)
    seam = len(file)
    window = slice(seam - SR, seam + SR)
    assert np.abs(played[window] - continuous[window]).max() <= SEAM_TOL


def test_tail_longer_than_loop_wraps_repeatedly():
    sr, body = 1000, 100
    score = replace(fake_arrange(make_song(num_bars=1)), end_tick=96)  # 0.1 s at 120 qpm, 480 tpb
    assert piece_samples(score, sr) == (0, body)
    audio = np.ones(body + 250, dtype=np.float32)
    file, points = assemble(audio, score, sr)
    assert len(file) == body == points.length_samples
    np.testing.assert_array_equal(file[:50], 4.0)  # itself + three wrapped passes of the tail
    np.testing.assert_array_equal(file[50:], 3.0)


def test_no_loop_keeps_natural_tail_and_trims_silence():
    score = fake_arrange(make_song(num_bars=1))
    audio = sine_render(score, SR, render_length(score, SR))
    file, points = assemble(audio, score, SR, loop=False)
    end = piece_samples(score, SR)[1]
    assert points.length_samples == 0
    assert end < len(file) < len(audio)  # kept ringing past the bar line, dropped the silence
    assert file[-1] == 0.0
    np.testing.assert_array_equal(file[:end], audio[:end])
