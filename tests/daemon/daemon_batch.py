"""A batch of real and broken MIDI files, dropped three ways, and the checks that follow it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from daemon_jobs import read_output

from chipline.daemon import Layout
from chipline.daemon.queue import JobQueue
from chipline.errors import MidiFileError
from chipline.master.names import safe_name
from chipline.score import read_midi

WRITE_CHUNK_BYTES = 256
WRITE_PAUSE_SEC = 0.02  # well under the stability wait used with these batches


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _renders(path: Path) -> bool:
    """The renderer's own acceptance rule: readable, with notes, not drums only."""
    try:
        notes = read_midi(path).notes
    except MidiFileError:
        return False
    return any(not n.is_drum for n in notes)


@dataclass
class Batch:
    good: dict[str, str] = field(default_factory=dict)  # inbox name → sha256
    broken: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)  # good files written slowly


def pick(
    midi_dir: Path, edge_dir: Path, num_good: int, num_slow: int, num_broken: int = 1000
) -> tuple[Batch, dict]:
    """`num_good` distinct good files (by content; the smallest first, so short pieces) and up
    to `num_broken` broken ones."""
    batch, sources, seen = Batch(), {}, set()
    for path in sorted(midi_dir.glob("*.mid"), key=lambda p: (p.stat().st_size, p.name)):
        if len(batch.good) == num_good:
            break
        digest = _sha(path)
        if digest in seen or not _renders(path):
            continue
        seen.add(digest)
        batch.good[path.name] = digest
        sources[path.name] = path
    for path in sorted(edge_dir.glob("*.mid")):
        if len(batch.broken) < num_broken and not _renders(path):
            name = f"broken-{path.name}"
            batch.broken.append(name)
            sources[name] = path
    batch.slow = list(batch.good)[:num_slow]
    return batch, sources


def drop_all(batch: Batch, sources: dict[str, Path], inbox: Path) -> list[threading.Thread]:
    """Drop every file: slow writers in threads (returned, to join), the rest by copy or rename."""
    writers = []
    for name in batch.slow:
        t = threading.Thread(target=_write_slowly, args=(sources[name], inbox / name))
        t.start()
        writers.append(t)
    for i, (name, src) in enumerate(sources.items()):
        if name in batch.slow:
            continue
        if i % 2:
            shutil.copyfile(src, inbox / name)
        else:
            tmp = inbox.parent / f"{name}.incoming"
            shutil.copyfile(src, tmp)
            os.replace(tmp, inbox / name)
    return writers


def _write_slowly(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    with open(dst, "wb") as f:
        for i in range(0, len(data), WRITE_CHUNK_BYTES):
            f.write(data[i : i + WRITE_CHUNK_BYTES])
            f.flush()
            time.sleep(WRITE_PAUSE_SEC)


class PartialWatcher:
    """Polls the output folder in a thread and records anything partial seen at any moment: a
    temporary name, or a file that does not decode."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.problems: list[str] = []
        self.looks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="partial-watcher")

    def __enter__(self) -> PartialWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.looks += 1
            if self.out_dir.exists():
                for path in self.out_dir.iterdir():
                    problem = check_output(path)
                    if problem:
                        self.problems.append(problem)
            self._stop.wait(0.005)


def check_output(path: Path) -> str | None:
    """Why `path` (a visible file in the output folder) is partial, or None if complete."""
    name = path.name
    if name.startswith("."):
        return None
    if ".tmp" in name or name.endswith(("~", ".part")):
        return f"temporary name visible: {name}"
    try:
        if name.endswith(".out"):
            return None if read_output(path) else f"partial output: {name}"
        if name.endswith(".json"):
            json.loads(path.read_text())
        elif name.endswith(".wav"):
            data = path.read_bytes()
            riff_bytes = int.from_bytes(data[4:8], "little") + 8
            if data[:4] != b"RIFF" or riff_bytes != len(data):
                return f"partial WAV: {name} ({len(data)} of {riff_bytes} bytes)"
        elif name.endswith((".ogg", ".flac")):
            import soundfile

            soundfile.read(path)
        elif name.endswith(".png"):
            if not path.read_bytes().endswith(b"IEND\xaeB`\x82"):
                return f"partial PNG: {name}"
        elif name.endswith((".mid", ".midi")):
            read_midi(path)
    except FileNotFoundError:
        return None  # replaced between listing and reading
    except Exception as e:
        return f"{name} does not decode: {e}"
    return None


def check_test_outputs(layout: Layout, batch: Batch) -> None:
    """One complete `.out` per good input (test jobs), named after it, holding its hash."""
    outs = sorted(layout.out_dir.glob("*.out"))
    by_sha = {read_output(p): p.name for p in outs}
    assert len(outs) == len(batch.good)
    assert set(by_sha) == set(batch.good.values())
    for name, digest in batch.good.items():
        assert by_sha[digest] == f"{safe_name(Path(name).stem)}.out", name


def check_rendered_outputs(layout: Layout, batch: Batch) -> None:
    """One track record per good input (the real renderer), named after it, whose files are all
    there with the recorded hashes, and nothing else visible but the folder's manifest."""
    tracks = layout.out_dir / ".chipline" / "tracks"
    records = [json.loads(p.read_text()) for p in tracks.glob("*.json")]
    by_sha = {r["source"]["sha256"]: r for r in records}
    assert len(records) == len(batch.good)
    assert set(by_sha) == set(batch.good.values())
    listed = set()
    for name, digest in batch.good.items():
        record = by_sha[digest]
        assert record["name"] == safe_name(Path(name).stem), name
        for f in record["files"]:
            listed.add(f["path"])
            assert _sha(layout.out_dir / f["path"]) == f["sha256"], f["path"]
    visible = {p.name for p in layout.out_dir.iterdir() if not p.name.startswith(".")}
    assert visible - listed <= {"manifest.json", "index.html"}


def check_delivered(layout: Layout, batch: Batch, *, rendered: bool = False) -> None:
    """Every good file delivered exactly once; every broken one in failed/ with a reason; no
    MIDI lost; no leftovers; the queue consistent."""
    done = sorted(p.name for p in layout.done.iterdir())
    assert done == sorted(batch.good), set(done) ^ set(batch.good)
    (check_rendered_outputs if rendered else check_test_outputs)(layout, batch)
    failed = sorted(p.name for p in layout.failed.glob("*.mid"))
    assert failed == sorted(batch.broken)
    for name in batch.broken:
        text = (layout.failed / f"{name}.error.txt").read_text()
        assert "reason: MidiFileError" in text or "reason: RenderError" in text, text
    assert list(layout.work.iterdir()) == []
    assert [p for p in layout.inbox.iterdir() if p.is_file()] == []
    leftovers = [p for p in layout.out_dir.rglob("*") if p.is_file() and ".tmp" in p.name]
    assert leftovers == []
    q = JobQueue(layout.state_dir)
    try:
        c = q.counts()
        assert (c["queued"], c["working"], c["skipped"]) == (0, 0, 0)
        assert (c["done"], c["failed"]) == (len(batch.good), len(batch.broken))
        for job in q.jobs("done"):
            assert all((layout.out_dir / rel).exists() for rel in job.output_list())
    finally:
        q.close()
