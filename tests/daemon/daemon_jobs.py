"""Small jobs for daemon tests, run in real worker processes (so: module-level, picklable).

Each good job writes `<name>.out` (a header, the input's SHA-256, a body, an END line) and a
manifest entry `.chipline/tracks/<name>.json`, so a test can tell a complete output from a partial
one and map every output back to its input.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import time
from pathlib import Path

from chipline.errors import BridgeError, BridgeTimeout, MidiFileError, RenderError
from chipline.score import read_midi

HEADER = b"CHIPLINE-TEST\n"
END = b"\nEND\n"


def _write(
    out_dir: Path, name: str, midi: Path, body: bytes, *, chunk_sec: float = 0.0
) -> list[Path]:
    digest = hashlib.sha256(midi.read_bytes()).hexdigest()
    out = out_dir / f"{name}.out"
    with open(out, "wb") as f:
        f.write(HEADER + digest.encode() + b"\n")
        for i in range(0, len(body), 4096):
            f.write(body[i : i + 4096])
            f.flush()
            if chunk_sec:
                time.sleep(chunk_sec)
        f.write(END)
    entry = out_dir / ".chipline" / "tracks" / f"{name}.json"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps({"name": name, "sha256": digest, "source": midi.name}))
    return [out, entry]


def read_output(path: Path) -> str | None:
    """The input SHA-256 recorded in a complete `.out` file, or None if it is partial."""
    data = path.read_bytes()
    if not data.startswith(HEADER) or not data.endswith(END):
        return None
    return data[len(HEADER) : len(HEADER) + 64].decode()


def ok_job(midi: Path, out_dir: Path, name: str) -> list[Path]:
    return _write(out_dir, name, midi, b"x" * 1000)


def validating_job(midi: Path, out_dir: Path, name: str) -> list[Path]:
    """Reads the MIDI like the renderer does: broken files fail with MidiFileError."""
    song = read_midi(midi)
    if all(n.is_drum for n in song.notes):
        raise MidiFileError(f"{midi}: no pitched notes to render")
    return _write(out_dir, name, midi, b"n" * (len(song.notes) * 8), chunk_sec=0.0)


def slow_validating_job(midi: Path, out_dir: Path, name: str) -> list[Path]:
    """As `validating_job`, writing its output slowly (so kills land mid-write)."""
    song = read_midi(midi)
    if all(n.is_drum for n in song.notes):
        raise MidiFileError(f"{midi}: no pitched notes to render")
    return _write(out_dir, name, midi, b"n" * 16384, chunk_sec=0.01)


def mixed_job(midi: Path, out_dir: Path, name: str) -> list[Path]:
    """Behaves by file-name prefix: segv-, abort-, hang-, bad-, flaky-, full-, denied-; else ok."""
    stem = midi.name
    if stem.startswith("segv-"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if stem.startswith("abort-"):
        os.abort()
    if stem.startswith("hang-"):
        time.sleep(3600)
    if stem.startswith("bad-"):
        raise RenderError(f"{midi}: cannot render this file")
    if stem.startswith("full-"):
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir / f"{name}.out"))
    if stem.startswith("denied-"):
        raise PermissionError(errno.EACCES, "Permission denied", str(out_dir / f"{name}.out"))
    if stem.startswith("flaky-"):
        tries = out_dir.parent / f"{name}.tries"
        count = int(tries.read_text()) + 1 if tries.exists() else 1
        tries.write_text(str(count))
        if count < 2:
            raise BridgeTimeout("renderer timed out (first try)")
    if stem.startswith("template-"):
        raise BridgeError("template.rpp: no track named 'Pulse 1'")
    return ok_job(midi, out_dir, name)
