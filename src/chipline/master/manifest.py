"""The manifest: one JSON record per delivered track, and the folder document that lists them.

Its JSON Schema is `manifest.schema.json` beside this module (`schema()` loads it); the record
carries everything an engine integration needs: loop points in samples and seconds, loudness,
and every file with its size and SHA-256.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from chipline import __version__
from chipline.master.files import sha256_file
from chipline.master.loop import LoopPoints
from chipline.master.loudness import LoudnessReport

MANIFEST_VERSION = 1
SCHEMA_FILE = "manifest.schema.json"


def schema() -> dict[str, Any]:
    """The manifest's JSON Schema (draft 2020-12)."""
    text = resources.files("chipline.master").joinpath(SCHEMA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def file_record(path: Path, out_dir: Path, role: str, **extra: Any) -> dict[str, Any]:
    """One output file: its path relative to `out_dir`, format, role, size and SHA-256."""
    record = {
        "path": path.relative_to(out_dir).as_posix(),
        "role": role,
        "format": path.suffix.lstrip(".").lower(),
        "size_bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }
    return record | extra


def loop_record(loop: LoopPoints) -> dict[str, Any]:
    return {
        "enabled": loop.length_samples > 0,
        "start_sample": loop.start_sample,
        "length_samples": loop.length_samples,
        "start_sec": round(loop.start_sec, 6),
        "length_sec": round(loop.length_sec, 6),
    }


def loudness_record(report: LoudnessReport) -> dict[str, Any]:
    return {
        "target_lufs": report.target_lufs,
        "source_lufs": report.source_lufs,
        "integrated_lufs": report.integrated_lufs,
        "true_peak_dbtp": report.true_peak_dbtp,
        "gain_db": report.gain_db,
        "peak_limited": report.peak_limited,
    }


def folder_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The folder's `manifest.json`: every track record, sorted by name."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "generator": f"chipline {__version__}",
        "tracks": sorted(entries, key=lambda e: str(e.get("name", ""))),
    }
