"""Rebuild the default training corpus from public packages only (`make corpus`).

    python3 tools/build_corpus.py --out build/corpus [--parts bach,folk,game] [--limit N]

- bach: the 371 Riemenschneider chorales of music21's corpus (MusicXML by Margaret Greentree);
  the 21 that Riemenschneider printed twice are one file each, so 350 files.
- folk: O'Neill's Music of Ireland (1850 tunes) and Ryan's Mammoth Collection from music21's
  corpus (ABC, several transcribers), de-duplicated by O'Neill's tune numbers (its opus files
  overlap) and by note content; pieces longer than 10 minutes after repeat expansion are
  dropped, and so is a tune whose conversion takes over PIECE_TIME_LIMIT_SEC (music21's repeat
  expansion can run away on a few tunes).
- game: the music of Debian's `freedoom` and `freedm` (BSD-3-Clause; the D_* lumps of the WADs
  are Standard MIDI files) and `simutrans-data` (Artistic-1.0), fetched with `apt-get download`
  and unpacked with `dpkg-deb -x` (nothing is installed), de-duplicated by content.

music21 is installed into a throwaway venv (`OUT/.venv-music21`); it is a dependency of this
recipe only. Every piece gets a row in `OUT/corpus.csv`: part, file, source, licence, sha256.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import hashlib
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

MUSIC21 = "music21>=9"
DEBIAN = ("freedoom", "freedm", "simutrans-data")
FOLK_LICENCE = "public-domain tunes; ABC transcriptions distributed with music21 by permission"
LICENCES = {
    "bach": "public-domain music; MusicXML encodings by Margaret Greentree (jsbchorales.net), "
    "distributed with music21 (BSD-3-Clause) by permission",
    "oneills1850": FOLK_LICENCE,
    "ryansMammoth": FOLK_LICENCE,
    "freedoom": "BSD-3-Clause (Freedoom project)",
    "freedm": "BSD-3-Clause (Freedoom project)",
    "simutrans-data": "Artistic-1.0 (Simutrans project)",
}
MAX_SECONDS = 600.0
PIECE_TIME_LIMIT_SEC = 60  # one tune's conversion; the longest normal tune takes a few seconds


@contextlib.contextmanager
def _time_limit(seconds: int):  # type: ignore[no-untyped-def]
    """Raise TimeoutError in this (main) thread after `seconds` (SIGALRM: Unix, as the recipe)."""

    def expire(signum, frame):  # type: ignore[no-untyped-def]
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def music21_export(out: Path, part: str, limit: int) -> list[dict[str, str]]:
    """Runs inside the music21 venv: write MIDI files for `part`; returns the CSV rows."""
    from music21 import corpus  # noqa: PLC0415 - only the venv has it

    rows: list[dict[str, str]] = []
    folder = _fresh(out / part)
    if part == "bach":
        seen: set[str] = set()
        for path in corpus.chorales.Iterator(returnType="filename"):
            if limit and len(rows) >= limit:
                break
            if str(path) in seen:  # a chorale Riemenschneider printed twice: one file
                continue
            seen.add(str(path))
            score = corpus.parse(path)
            rows += _write(score, folder / f"bach__{_base(path)}.mid", "bach", str(path))
        return rows
    seen_numbers: set[str] = set()
    seen_notes: set[str] = set()
    for collection in ("oneills1850", "ryansMammoth"):
        for path in sorted(corpus.getComposer(collection)):
            opus = corpus.parse(path)
            for score in getattr(opus, "scores", [opus]):
                if limit and len(rows) >= limit:
                    return rows
                number = str(score.metadata.number if score.metadata else "")
                # O'Neill's numbers its tunes through the book (its opus files overlap); Ryan's
                # is a file per tune, each numbered 1.
                book = collection if collection == "oneills1850" else str(path)
                key = f"{book}#{number}"
                if number and key in seen_numbers:
                    continue
                seen_numbers.add(key)
                name = f"{collection}__{_base(path)}__{number or len(rows)}.mid"
                written = _write(score, folder / name, collection, f"{path}#{number}")
                for row in written:
                    if row["notes_sha256"] in seen_notes:
                        (folder / row["file"]).unlink()
                        continue
                    seen_notes.add(row["notes_sha256"])
                    rows.append(row)
    return rows


def _fresh(folder: Path) -> Path:
    """`folder`, emptied of an earlier (perhaps interrupted) run's files."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _base(path: object) -> str:
    """`bach/bwv153.3.mxl` or `bwv153.3` -> `bwv153.3` (Path.stem would cut the `.3`)."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".mxl", ".musicxml", ".xml", ".krn", ".abc"):
        name = name.removesuffix(suffix)
    return name


def _write(score, path: Path, licence_key: str, source: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    try:
        with _time_limit(PIECE_TIME_LIMIT_SEC):
            return _convert(score, path, licence_key, source)
    except TimeoutError as e:
        print(f"skipped {source}: {e}", file=sys.stderr)
        path.unlink(missing_ok=True)
        return []


def _convert(score, path: Path, licence_key: str, source: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    try:
        expanded = score.expandRepeats() if hasattr(score, "expandRepeats") else score
    except TimeoutError:
        raise
    except Exception:  # noqa: BLE001 - malformed repeats: keep the score as written
        expanded = score
    try:
        if float(expanded.seconds or 0) > MAX_SECONDS:
            return []
    except TimeoutError:
        raise
    except Exception:  # noqa: BLE001, S110 - no tempo information: keep it
        pass
    _unshare_time_signatures(expanded)
    try:
        expanded.write("midi", fp=str(path))
    except TimeoutError:
        raise
    except Exception:  # noqa: BLE001 - music21's writer trips on some measures: write it flat
        try:
            expanded = expanded.flatten()
            expanded.write("midi", fp=str(path))
        except TimeoutError:
            raise
        except Exception as e:  # noqa: BLE001 - one bad encoding must not stop the corpus
            print(f"skipped {source}: {e}", file=sys.stderr)
            return []
    flat = expanded.flatten().notes
    notes = sorted((float(n.offset), n.pitch.midi) for n in flat if hasattr(n, "pitch"))
    digest = hashlib.sha256(repr(notes).encode()).hexdigest()
    return [_row(path, licence_key, source, notes_sha256=digest)]


def _unshare_time_signatures(score) -> None:  # type: ignore[no-untyped-def]
    """Give each measure its own TimeSignature object: music21's ABC reader (and repeat
    expansion) can put one object in several measures, and its MIDI writer then refuses the
    whole tune ("already found in this Stream")."""
    seen: set[int] = set()
    for measure in score.recurse().getElementsByClass("Measure"):
        for signature in list(measure.getElementsByClass("TimeSignature")):
            if id(signature) in seen:
                measure.replace(signature, copy.deepcopy(signature))
            seen.add(id(signature))


def _row(path: Path, licence_key: str, source: str, **extra: str) -> dict[str, str]:
    data = path.read_bytes()
    return {"part": path.parent.name, "file": path.name, "source": source,
            "licence": LICENCES[licence_key], "sha256": hashlib.sha256(data).hexdigest(),
            **extra}  # fmt: skip


def wad_midi_lumps(wad: bytes) -> list[tuple[str, bytes]]:
    """(name, data) of every lump of a Doom WAD whose data is a Standard MIDI file."""
    magic, count, table = struct.unpack_from("<4sii", wad, 0)
    if magic not in (b"IWAD", b"PWAD"):
        raise ValueError("not a WAD file")
    lumps = []
    for k in range(count):
        pos, size, raw = struct.unpack_from("<ii8s", wad, table + 16 * k)
        data = wad[pos : pos + size]
        if data[:4] == b"MThd":
            lumps.append((raw.rstrip(b"\0").decode("ascii", "replace"), data))
    return lumps


def debian_game_music(out: Path, work: Path) -> list[dict[str, str]]:
    """Download the Debian packages, unpack them, copy out their MIDI (deduplicated)."""
    subprocess.run(["apt-get", "download", *DEBIAN], cwd=work, check=True)
    folder = _fresh(out / "game")
    rows, seen = [], set()
    for deb in sorted(work.glob("*.deb")):
        package = subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], check=True,
                                 capture_output=True, text=True).stdout.strip()  # fmt: skip
        version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                                 capture_output=True, text=True).stdout.strip()  # fmt: skip
        root = work / package
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        found: list[tuple[str, str, bytes]] = []
        for wad in sorted(root.rglob("*.wad")):
            found += [(f"{package}__{name}.mid", f"{wad.name}:{name}", data)
                      for name, data in wad_midi_lumps(wad.read_bytes())]  # fmt: skip
        for mid in sorted(root.rglob("*.mid")):
            found.append((f"{package}__{mid.name}", mid.name, mid.read_bytes()))
        for name, where, data in found:
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            (folder / name).write_bytes(data)
            rows.append(_row(folder / name, package, f"Debian {package} {version}: {where}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/corpus"))
    parser.add_argument("--parts", default="bach,folk,game")
    parser.add_argument("--limit", type=int, default=0, help="pieces per music21 part (testing)")
    parser.add_argument("--music21-part", help=argparse.SUPPRESS)  # internal: runs in the venv
    args = parser.parse_args()
    out = args.out.resolve()
    if args.music21_part:
        rows = music21_export(out, args.music21_part, args.limit)
        _write_csv(out / f".{args.music21_part}.csv", rows)
        return
    rows: list[dict[str, str]] = []
    parts = args.parts.split(",")
    m21 = [p for p in parts if p in ("bach", "folk")]
    if m21:
        venv = out / ".venv-music21"
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", MUSIC21], check=True)
        for part in m21:
            export = ["--out", str(out), "--music21-part", part, "--limit", str(args.limit)]
            subprocess.run([str(venv / "bin" / "python"), __file__, *export], check=True)
            rows += _read_csv(out / f".{part}.csv")
    if "game" in parts:
        with tempfile.TemporaryDirectory(prefix="corpus-debs-") as work:
            rows += debian_game_music(out, Path(work))
    if (out / "corpus.csv").exists():  # a partial run keeps the other parts' rows
        rows = [r for r in _read_csv(out / "corpus.csv") if r["part"] not in parts] + rows
    _write_csv(out / "corpus.csv", rows)
    counts = {p: sum(r["part"] == p for r in rows) for p in ("bach", "folk", "game")}
    print(f"{len(rows)} pieces in {out}: {counts}; sources and licences in corpus.csv")


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    fields = ["part", "file", "source", "licence", "sha256", "notes_sha256"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


if __name__ == "__main__":
    main()
