"""Atomic writes: the target appears whole or not at all, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipline import atomic


def _write_then_fail(target: Path, error: type[BaseException]) -> None:
    with atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half a new file")
        raise error("stop")


def test_write_bytes_creates_target_and_leaves_only_it(tmp_path: Path) -> None:
    target = tmp_path / "song.mid"
    assert atomic.write_bytes(target, b"MThd") == target
    assert target.read_bytes() == b"MThd"
    assert list(tmp_path.iterdir()) == [target]


def test_write_replaces_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_text("old")
    atomic.write_text(str(target), "new")
    assert target.read_text() == "new"
    assert list(tmp_path.iterdir()) == [target]


def test_temporary_is_hidden_unique_and_beside_target(tmp_path: Path) -> None:
    target = tmp_path / "out.ogg"
    with atomic.atomic_path(target) as first, atomic.atomic_path(target) as second:
        assert first.parent == second.parent == tmp_path
        assert first.name.startswith(".out.ogg.")
        assert first.name.endswith(".tmp")
        assert first != second
        first.write_bytes(b"1")
        second.write_bytes(b"2")
    assert target.read_bytes() == b"1"  # the outer block finished last
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_failure_inside_keeps_existing_target_and_removes_temporary(
    tmp_path: Path, error: type[BaseException]
) -> None:
    target = tmp_path / "report.jsonl"
    target.write_bytes(b"whole old file")
    with pytest.raises(error):
        _write_then_fail(target, error)
    assert target.read_bytes() == b"whole old file"
    assert list(tmp_path.iterdir()) == [target]


def test_failure_inside_leaves_no_partial_new_target(tmp_path: Path) -> None:
    target = tmp_path / "new.npz"
    with pytest.raises(RuntimeError):
        _write_then_fail(target, RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_removes_temporary_and_raises_oserror(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep").write_text("x")  # a non-empty folder cannot be replaced by a file
    with pytest.raises(IsADirectoryError):
        atomic.write_bytes(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]
    assert (target / "keep").read_text() == "x"


def test_make_parents_creates_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.txt"
    atomic.write_text(target, "hi", make_parents=True)
    assert target.read_text() == "hi"


def test_missing_folder_raises_without_make_parents(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "c.txt"
    with pytest.raises(FileNotFoundError):
        atomic.write_bytes(target, b"x")
    assert not (tmp_path / "absent").exists()


def test_write_text_passes_encoding_options(tmp_path: Path) -> None:
    target = tmp_path / "p.rpp"
    text = "a\nb \udcff\n"  # a byte that is not UTF-8, kept by surrogateescape
    atomic.write_text(target, text, errors="surrogateescape", newline="\n")
    assert target.read_bytes() == b"a\nb \xff\n"
