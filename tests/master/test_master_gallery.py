"""The gallery page: built from the manifest, loaded in headless Chromium from disk."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from chip_doubles import install_fakes, make_song, write_song
from chipline.master import folder
from chipline.master.gallery import render_gallery
from chipline.render import RenderConfig, render_files

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=5000",
    ]  # fmt: skip
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_page_is_self_contained_and_escaped():
    doc = {
        "tracks": [
            {"name": "a<b", "files": [{"path": "a b.ogg", "role": "audio", "format": "ogg"}]}
        ]
    }
    page = render_gallery(doc)
    assert "a&lt;b" in page
    assert "a<b" not in page.replace("a&lt;b", "")
    assert 'src="a%20b.ogg"' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no external URL


@pytest.mark.slow
def test_gallery_in_headless_chromium(tmp_path, monkeypatch):
    if not shutil.which(CHROMIUM):
        pytest.skip("chromium is not installed")
    install_fakes(monkeypatch)
    out = tmp_path / "out"
    paths = [
        write_song(tmp_path / "first.mid", make_song(num_bars=2)),
        write_song(tmp_path / "second.mid", make_song(num_bars=1, pitches=(55, 59))),
    ]
    results = render_files(paths, out, RenderConfig(backend="sine", formats=("ogg", "mp3")))
    manifest = folder.refresh(out)
    assert len(results) == len(manifest["tracks"]) == 2
    page = (out / "index.html").as_uri()
    run = _chromium(tmp_path, "--dump-dom", page)
    dom = run.stdout
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    for track in manifest["tracks"]:
        name = track["name"]
        section = dom[dom.index(f'id="track-{name}"') :]
        section = section[: section.index("</section>")]
        audio = re.search(r"<audio[^>]*>", section).group(0)
        assert 'data-state="ready"' in audio, audio
        duration = float(re.search(r'data-duration="([0-9.]+)"', audio).group(1))
        assert duration == pytest.approx(track["duration_sec"], abs=0.05)
        assert re.search(r'<img[^>]*data-state="ready"', section)
    shot = tmp_path / "gallery.png"  # kept in pytest's tmp dir as the artefact
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", page)
    assert shot.stat().st_size > 1000
