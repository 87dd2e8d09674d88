"""The folder flow: inbox → work/ → done/ | failed/ (+ error.txt), outputs staged then renamed.

Every move is `os.replace` within one file system, so each step is atomic; a MIDI file is moved,
never deleted. Outputs are rendered into `OUT/.chipline/staging/<job>/` and renamed into `OUT`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from chipline import atomic
from chipline.daemon.queue import Job


@dataclass(frozen=True)
class Layout:
    """Where everything lives for one inbox and one output folder."""

    inbox: Path
    out_dir: Path

    @property
    def state_dir(self) -> Path:
        return self.inbox / ".chipline"

    @property
    def work(self) -> Path:
        return self.inbox / "work"

    @property
    def done(self) -> Path:
        return self.inbox / "done"

    @property
    def failed(self) -> Path:
        return self.inbox / "failed"

    @property
    def staging_root(self) -> Path:
        return self.out_dir / ".chipline" / "staging"

    def staging(self, job_id: int) -> Path:
        return self.staging_root / str(job_id)

    def make_dirs(self) -> None:
        for d in (self.state_dir, self.work, self.done, self.failed, self.staging_root):
            d.mkdir(parents=True, exist_ok=True)


def free_name(folder: Path, name: str) -> str:
    """`name`, or `stem-2.ext`, `stem-3.ext`, ... whichever is not yet in `folder`."""
    if not (folder / name).exists():
        return name
    stem, ext = os.path.splitext(name)
    n = 2
    while (folder / f"{stem}-{n}{ext}").exists():
        n += 1
    return f"{stem}-{n}{ext}"


def move_into(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` under a free name (atomic rename); return the new path."""
    target = folder / free_name(folder, path.name)
    os.replace(path, target)
    return target


OUTPUT_SUFFIXES = (".ogg", ".wav", ".mp3", ".mid", ".png", ".flac")


def name_taken(out_dir: Path, name: str) -> bool:
    """Whether `out_dir` already holds outputs called `name` (made before this queue existed):
    its track record, or an audio, MIDI or picture file of that name."""
    if (out_dir / ".chipline" / "tracks" / f"{name}.json").exists():
        return True
    return any((out_dir / f"{name}{suffix}").exists() for suffix in OUTPUT_SUFFIXES)


def deliver(staging: Path, out_dir: Path, outputs: tuple[str, ...]) -> list[str]:
    """Rename each staged output into `out_dir` (same relative path); hidden files (manifest
    entries) go last so an entry never points at audio that is not there yet."""
    ordered = sorted(outputs, key=lambda rel: (Path(rel).parts[0].startswith("."), rel))
    for rel in ordered:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    return ordered


def write_error_file(folder: Path, midi_name: str, job: Job) -> Path:
    """Write `<midi_name>.error.txt` (reason, tries, log tail) atomically; return its path."""
    text = (
        f"file: {job.src_name}\n"
        f"reason: {job.error}\n"
        f"attempts: {job.attempts}\n\n"
        f"tries:\n{job.history}\n"
        f"log tail:\n{job.log_tail}\n"
    )
    return atomic.write_text(folder / f"{midi_name}.error.txt", text)


def finish(layout: Layout, job: Job) -> Path | None:
    """Move a finished job's MIDI out of work/ (done/ or failed/ + error.txt) and drop its
    staging folder; idempotent, so start-up recovery can call it again."""
    src = layout.work / job.work_name
    moved = None
    if src.exists():
        if job.state == "failed":
            name = free_name(layout.failed, job.work_name)
            write_error_file(layout.failed, name, job)
            moved = layout.failed / name
            os.replace(src, moved)
        else:
            moved = move_into(src, layout.done)
    shutil.rmtree(layout.staging(job.id), ignore_errors=True)
    return moved
