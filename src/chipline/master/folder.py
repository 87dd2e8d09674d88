"""Folder-level outputs shared by many writers: per-track records, `manifest.json`, `index.html`.

Each rendered track writes its own record atomically to `OUT/.chipline/tracks/<name>.json`;
`refresh(out_dir)` rebuilds the folder's manifest and gallery from those records. Any number of
writers (the CLI, the watch daemon) may do this over time: every file is replaced atomically and
`refresh` depends only on the records, so running it twice gives the same files.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from chipline.master.files import write_bytes_atomic
from chipline.master.gallery import render_gallery
from chipline.master.manifest import folder_document

logger = logging.getLogger(__name__)

RECORDS_DIR = Path(".chipline") / "tracks"
MANIFEST_NAME = "manifest.json"
GALLERY_NAME = "index.html"


def write_record(out_dir: Path, entry: dict[str, Any]) -> Path:
    """Write one track's manifest record atomically; returns its path."""
    folder = out_dir / RECORDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(entry, indent=2, sort_keys=True) + "\n"
    return write_bytes_atomic(folder / f"{entry['name']}.json", text.encode())


def read_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every readable track record of `out_dir`, sorted by name (a bad one is logged, skipped)."""
    entries = []
    for path in sorted((out_dir / RECORDS_DIR).glob("*.json")):
        try:
            entry = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as e:
            logger.warning("%s: skipped unreadable track record (%s)", path, e)
            continue
        if isinstance(entry, dict) and entry.get("name") == path.stem:
            entries.append(entry)
        else:
            logger.warning("%s: skipped track record that does not name itself", path)
    return entries


def refresh(out_dir: Path) -> dict[str, Any]:
    """Rebuild `OUT/manifest.json` and `OUT/index.html` from the track records; returns the
    manifest. Idempotent; each file is replaced atomically."""
    out_dir = Path(out_dir)
    document = folder_document(read_records(out_dir))
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(out_dir / MANIFEST_NAME, text.encode())
    write_bytes_atomic(out_dir / GALLERY_NAME, render_gallery(document).encode())
    return document
