"""Folder outputs: per-track records, manifest.json and index.html rebuilt idempotently."""

from __future__ import annotations

import json

import jsonschema
import pytest

from chip_doubles import install_fakes, make_song, write_song
from chipline.master import folder, manifest
from chipline.render import RenderConfig, render_file


def test_refresh_is_idempotent_and_collects_every_writer(tmp_path, monkeypatch):
    install_fakes(monkeypatch)
    out = tmp_path / "out"
    cfg = RenderConfig(backend="sine", formats=("wav",))
    for stem in ("b", "a"):  # two separate writers over time
        render_file(write_song(tmp_path / f"{stem}.mid", make_song(num_bars=1)), out, cfg)
    first = ((out / "manifest.json").read_bytes(), (out / "index.html").read_bytes())
    doc = folder.refresh(out)
    assert ((out / "manifest.json").read_bytes(), (out / "index.html").read_bytes()) == first
    assert [t["name"] for t in doc["tracks"]] == ["a", "b"]
    jsonschema.validate(doc, manifest.schema())
    assert not [p for p in out.rglob("*.tmp")]


def test_refresh_skips_broken_records(tmp_path, caplog):
    records = tmp_path / folder.RECORDS_DIR
    records.mkdir(parents=True)
    (records / "bad.json").write_text("{not json")
    (records / "liar.json").write_text(json.dumps({"name": "other"}))
    doc = folder.refresh(tmp_path)
    assert doc["tracks"] == []
    assert "No tracks yet" in (tmp_path / "index.html").read_text()
    assert "skipped" in caplog.text


def test_schema_rejects_a_path_escape():
    doc = {"manifest_version": 1, "generator": "x", "tracks": []}
    jsonschema.validate(doc, manifest.schema())
    bad_file = {
        "path": "../x.ogg",
        "role": "audio",
        "format": "ogg",
        "size_bytes": 1,
        "sha256": "0" * 64,
    }
    schema = manifest.schema()
    file_schema = schema["$defs"]["track"]["properties"]["files"]["items"]
    resolver_schema = {"$defs": schema["$defs"], **file_schema}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_file, resolver_schema)
