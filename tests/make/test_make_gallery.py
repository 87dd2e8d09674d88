"""The gallery of a `chipline make` folder opens in headless Chromium and its players play."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from make_helpers import tiny_model

from chipline.make import MakeConfig, bundled_model_dir, make
from chipline.render import RenderConfig
from chipline.score import read_midi

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Appended to a copy of index.html: start every player (muted) and log what they do.
PLAY_SCRIPT = """<div id="played"></div><script>
(function () {
  var out = document.getElementById('played');
  document.querySelectorAll('audio').forEach(function (a, i) {
    var moved = false;
    a.muted = true;
    a.addEventListener('playing', function () { out.textContent += ' playing' + i; });
    a.addEventListener('timeupdate', function () {
      if (a.currentTime > 0 && !moved) { moved = true; out.textContent += ' advanced' + i; }
    });
    a.addEventListener('error', function () { out.textContent += ' error' + i; });
    a.play().catch(function (e) { out.textContent += ' refused' + i; });
  });
})();
</script></body>"""


def _dump_dom(tmp_path, page) -> str:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=8000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    run = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return run.stdout


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_make_gallery_opens_and_plays(tmp_path):
    out = tmp_path / "out"
    cfg = MakeConfig(num_tracks=2, num_bars=2, model=str(tiny_model(tmp_path / "m")))
    make(out, cfg, RenderConfig(formats=("ogg", "mp3")))
    page = out / "play.html"
    page.write_text((out / "index.html").read_text().replace("</body>", PLAY_SCRIPT))
    dom = _dump_dom(tmp_path, page)
    log = re.search(r'<div id="played">([^<]*)</div>', dom).group(1).split()
    for i in range(2):
        assert f"playing{i}" in log, log
        assert f"advanced{i}" in log, log
    assert not [w for w in log if w.startswith(("error", "refused"))], log
    audio = re.findall(r"<audio[^>]*>", dom)
    assert len(audio) == 2
    assert all('data-state="ready"' in a for a in audio), audio


@pytest.mark.slow
def test_bundled_model_makes_musical_tracks(tmp_path):
    assert (bundled_model_dir() / "model.safetensors").stat().st_size <= 10 * 1024 * 1024
    out = tmp_path / "out"
    results = make(out, MakeConfig(num_tracks=2, num_bars=8, key="Em"),
                   RenderConfig(formats=("ogg",), pianoroll=False))  # fmt: skip
    assert len(results) == 2
    for result in results:
        song = read_midi(out / "source" / f"{result.name}.mid")
        pitched = [n for n in song.notes if not n.is_drum]
        assert len(pitched) >= 8 * MakeConfig().min_notes_per_bar
        assert len({n.pitch % 12 for n in pitched}) >= 4
        assert result.record["loop"]["enabled"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["tracks"]) == 2
