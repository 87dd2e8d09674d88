"""The folder's `index.html`: every track with players, piano roll, loop points and loudness.

A single self-contained page: inline style and script, relative links only, so it opens from
disk (file://) with no server and no network.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

_MIME = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}
_STYLE = """
body{font-family:system-ui,sans-serif;background:#15151d;color:#e6e6ee;margin:2em}
h1{font-size:1.4em} .track{background:#1f1f2b;border-radius:8px;padding:1em;margin:1em 0}
.track h2{margin:0 0 .4em;font-size:1.1em} .meta{font-size:.9em;color:#b8b8c8}
img{max-width:100%;image-rendering:pixelated;margin-top:.5em;border:1px solid #333}
audio{width:100%;margin-top:.5em} a{color:#9cf} .state{font-size:.8em;color:#888}
"""
# Reports each player's and image's state on the page (ready / error); for looped tracks, jumps
# back to the loop start at the end (a preview: the files carry the sample-exact loop points).
_SCRIPT = """
document.querySelectorAll('audio[data-track]').forEach(function (a) {
  var state = document.getElementById('state-' + a.dataset.track);
  function show(s, text) { a.dataset.state = s; if (state) { state.textContent = text; } }
  a.addEventListener('loadedmetadata', function () {
    show('ready', 'ready, ' + a.duration.toFixed(2) + ' s');
    a.dataset.duration = String(a.duration);
  });
  var sources = a.querySelectorAll('source');
  if (sources.length) {
    sources[sources.length - 1].addEventListener('error', function () {
      show('error', 'this browser cannot play these files');
    });
  }
  a.addEventListener('ended', function () {
    if (a.dataset.loop === 'true') { a.currentTime = Number(a.dataset.loopStart); a.play(); }
  });
});
document.querySelectorAll('img').forEach(function (img) {
  function mark() { img.dataset.state = img.naturalWidth > 0 ? 'ready' : 'error'; }
  if (img.complete) { mark(); return; }
  img.addEventListener('load', mark);
  img.addEventListener('error', mark);
});
"""


def render_gallery(document: dict[str, Any]) -> str:
    """The HTML page for a folder manifest (see `manifest.folder_document`)."""
    tracks = document.get("tracks", [])
    body = "\n".join(_track_html(t) for t in tracks) or "<p>No tracks yet.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>chipline: {len(tracks)} tracks</title>\n<style>{_STYLE}</style>\n"
        '<link rel="icon" href="data:,">\n</head>\n<body>\n'
        f"<h1>chipline gallery: {len(tracks)} tracks</h1>\n{body}\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _track_html(track: dict[str, Any]) -> str:
    name = str(track["name"])
    esc = html.escape(name, quote=True)
    files = track.get("files", [])
    audio = [f for f in files if f.get("role") == "audio"]
    order = {"ogg": 0, "mp3": 1, "wav": 2}
    audio.sort(key=lambda f: order.get(f.get("format", ""), 9))
    sources = "".join(
        f'<source src="{_url(f["path"])}" type="{_MIME.get(f["format"], "audio/*")}">'
        for f in audio
    )
    loop = track.get("loop", {})
    looping = bool(loop.get("enabled"))
    player = (
        f'<audio controls preload="metadata" data-track="{esc}" '
        f'data-loop="{str(looping).lower()}" data-loop-start="{loop.get("start_sec", 0)}">'
        f"{sources}</audio>"
        if audio
        else "<p>No audio files.</p>"
    )
    rolls = "".join(
        f'<img src="{_url(f["path"])}" alt="piano roll of {esc}">'
        for f in files
        if f.get("role") == "pianoroll"
    )
    links = " · ".join(
        f'<a href="{_url(f["path"])}">{html.escape(f["path"])}</a>'
        for f in files
        if f.get("role") != "pianoroll"
    )
    return (
        f'<section class="track" id="track-{esc}">\n<h2>{esc}</h2>\n'
        f'<div class="meta">{_meta(track)}</div>\n{player}\n'
        f'<div class="state" id="state-{esc}">loading…</div>\n{rolls}\n'
        f'<div class="meta">{links}</div>\n</section>'
    )


def _meta(track: dict[str, Any]) -> str:
    loop = track.get("loop", {})
    loud = track.get("loudness", {})
    parts = [
        f"{track.get('chip', '?')}",
        f"{track.get('duration_sec', 0):.2f} s",
        f"{track.get('tempo_qpm', 0):.1f} qpm",
        f"{track.get('bars', 0):g} bars",
    ]
    if loop.get("enabled"):
        parts.append(
            f"loop {loop['start_sec']:.3f}–{loop['start_sec'] + loop['length_sec']:.3f} s "
            f"(samples {loop['start_sample']} + {loop['length_samples']})"
        )
    else:
        parts.append("no loop")
    lufs, peak = loud.get("integrated_lufs"), loud.get("true_peak_dbtp")
    if lufs is not None and peak is not None:
        parts.append(f"{lufs:.1f} LUFS, {peak:.1f} dBTP (gain {loud.get('gain_db', 0):+.1f} dB)")
    return html.escape(" · ".join(parts))


def _url(path: str) -> str:
    return html.escape(quote(path), quote=True)
