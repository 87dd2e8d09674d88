"""Against a real REAPER: runs only with `pytest -m reaper` and CHIPLINE_REAPER naming REAPER.

It installs chipline's actions and JSFX into that REAPER's resource folder (idempotent, only
files under `chipline/` and our `reaper-kb.ini` lines), then renders the default template.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from reaper_fixtures import nes_song

from chipline.bridge.actions import install_actions
from chipline.bridge.base import RenderRequest
from chipline.bridge.reaper import ReaperBackend, ReaperConfig
from chipline.bridge.reaper_env import find_reaper
from chipline.chip import ChipScore
from chipline.score import write_midi

pytestmark = [
    pytest.mark.reaper,
    pytest.mark.skipif(not os.environ.get("CHIPLINE_REAPER"), reason="CHIPLINE_REAPER not set"),
]


def test_default_template_renders_through_real_reaper(tmp_path):
    install = find_reaper()
    assert install.resource_dir is not None, "start REAPER once so it creates its resource folder"
    install_actions(install.resource_dir)
    song = nes_song()
    midi = write_midi(song, tmp_path / "arranged.mid")
    score = ChipScore("nes", song.ticks_per_beat, (), song.tempos, song.time_signatures,
                      song.end_tick)  # fmt: skip
    request = RenderRequest(score, midi, tmp_path, 48_000, 48_000 * 3)
    audio = ReaperBackend(ReaperConfig(timeout_sec=120)).render(request)
    assert audio.shape[0] == request.num_samples
    assert np.sqrt(np.mean(np.square(audio[: 48_000 * 2]))) > 1e-3  # the JSFX voices sound
