"""The render pipeline: MIDI -> arranged score -> back end -> loop, loudness -> files, manifest.

`render_file` delivers one track into an output folder; `render_files` does many, going on past
a bad file. Outputs of a track are staged under temporary names and renamed together, so a
failure leaves nothing behind, and an existing asset is replaced only with `overwrite`.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from chipline import __version__
from chipline.bridge import get_backend
from chipline.bridge.base import Backend, RenderRequest
from chipline.chip import ChipScore
from chipline.errors import ChiplineError, ConfigError, RenderError
from chipline.master import folder, loop, manifest, mp3, pianoroll, writers
from chipline.master.files import Staging, sha256_file, write_error
from chipline.master.loudness import (
    TRUE_PEAK_CEILING_DBTP,
    LoudnessReport,
    normalize,
    parse_target,
)
from chipline.master.names import check_name, unique_names
from chipline.score import ReadLimits, Song, bar_length_ticks, read_midi

logger = logging.getLogger(__name__)

FORMATS = ("ogg", "wav", "mp3")
# Back ends that render from `RenderRequest.score` alone: the arranged MIDI (pure-Python
# writing, a large part of the time) is then written while they render.
SCORE_ONLY_BACKENDS = frozenset({"chip"})
MP3_NOTE = (
    "exact length in decoders that read the LAME/Info tag (ffmpeg, mpg123); others play "
    f"{mp3.ENCODER_DELAY + 529} extra samples first: loop the OGG or WAV instead"
)


@dataclass(frozen=True)
class RenderConfig:
    """How `chipline render` turns MIDI into delivered audio (TOML table `[render]`)."""

    chip: Literal["nes", "vrc6"] = "nes"
    region: Literal["ntsc", "pal"] = "ntsc"
    filter: Literal["clean", "famicom", "nes"] = "clean"
    formats: tuple[str, ...] = FORMATS
    loudness: str | float = "default"  # LUFS, or a preset: default -18, console -23, mobile/web -16
    true_peak_dbtp: float = TRUE_PEAK_CEILING_DBTP
    loop: bool = True
    stems: bool = False
    sample_rate: int = 44100
    overwrite: bool = False
    backend: str = "chip"
    arpeggio: bool = True
    preset: str | None = None
    pianoroll: bool = True
    max_duration_sec: float = 1200.0
    min_qpm: float = 10.0
    max_qpm: float = 1000.0

    def __post_init__(self) -> None:
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ConfigError(f"formats {list(self.formats)}: choose from {', '.join(FORMATS)}")
        if not 8000 <= self.sample_rate <= 192000:
            raise ConfigError(f"sample_rate {self.sample_rate}: use 8000..192000 (44100 usual)")
        parse_target(self.loudness)

    @property
    def target_lufs(self) -> float:
        return parse_target(self.loudness)


@dataclass(frozen=True)
class TrackResult:
    """One delivered track: its name, files (final paths) and manifest record."""

    source: Path
    name: str
    files: tuple[Path, ...]
    record: dict[str, Any]


def render_files(
    paths: Sequence[Path],
    out_dir: Path,
    config: RenderConfig = RenderConfig(),
    on_file: Callable[[TrackResult | ChiplineError], None] | None = None,
) -> list[TrackResult | ChiplineError]:
    """Render every file of `paths` into `out_dir`; a file that fails gives its error in its
    place and the others still render. Names are unique within the batch; `on_file` is called
    after each file. Refreshes the folder's manifest and gallery once at the end."""
    results: list[TrackResult | ChiplineError] = []
    for path, name in zip(paths, unique_names(Path(p).stem for p in paths), strict=True):
        try:
            results.append(render_file(Path(path), out_dir, config, name=name, refresh=False))
        except ChiplineError as e:
            logger.warning("%s", e)
            results.append(e)
        if on_file is not None:
            on_file(results[-1])
    if any(isinstance(r, TrackResult) for r in results):
        folder.refresh(out_dir)
    return results


def render_file(
    midi_path: Path,
    out_dir: Path,
    config: RenderConfig = RenderConfig(),
    *,
    name: str | None = None,
    backend: Backend | None = None,
    refresh: bool = True,
) -> TrackResult:
    """Read, arrange, render and deliver one MIDI file into `out_dir` as `<name>.*`.

    Writes the arranged MIDI, the audio formats of `config`, a piano roll, optional stems and
    the track's manifest record; with `refresh` also the folder's manifest and gallery.

    Raises:
        MidiFileError: the file cannot be read or is over the duration cap.
        RenderError: nothing to render, absurd tempo, back-end failure, outputs exist (without
            `overwrite`) or cannot be written. Nothing is left behind on failure.
    """
    midi_path, out_dir = Path(midi_path), Path(out_dir)
    name = check_name(name) if name is not None else unique_names([midi_path.stem])[0]
    _prepare_folder(out_dir)
    planned = _planned_paths(out_dir, name, config)
    _check_targets(midi_path, planned, config.overwrite)
    song = read_midi(midi_path, ReadLimits(max_duration_sec=config.max_duration_sec))
    _check_song(midi_path, song, config)
    score = _arrange(song, config)
    return render_score(score, midi_path, out_dir, config, name=name, backend=backend,
                        refresh=refresh)  # fmt: skip


def render_score(
    score: ChipScore,
    midi_path: Path,
    out_dir: Path,
    config: RenderConfig = RenderConfig(),
    *,
    name: str | None = None,
    backend: Backend | None = None,
    refresh: bool = True,
) -> TrackResult:
    """Render and deliver an already arranged `score` (from `midi_path`) as `<name>.*`.

    The loop runs from `score.loop_start_tick` to `score.end_tick`. Raises as `render_file`.
    """
    midi_path, out_dir = Path(midi_path), Path(out_dir)
    name = check_name(name) if name is not None else unique_names([midi_path.stem])[0]
    _prepare_folder(out_dir)
    planned = _planned_paths(out_dir, name, config)
    _check_targets(midi_path, planned, config.overwrite)
    backend = backend or get_backend(config.backend, config)
    with tempfile.TemporaryDirectory(prefix="chipline-") as work, ThreadPoolExecutor(2) as pool:
        arranged = Path(work) / f"{name}.mid"
        played = loop.performance(score, config.loop)
        played_midi = arranged if played is score else Path(work) / f"{name}.performance.mid"
        writing = [pool.submit(_write_arranged, score, arranged)]
        score_only = backend.name in SCORE_ONLY_BACKENDS
        if played is not score and not score_only:  # a score-only back end never reads it
            writing.append(pool.submit(_write_arranged, played, played_midi))
        if not score_only:
            for job in writing:  # the back end reads the arranged MIDI: it must be complete
                job.result()
        request = RenderRequest(
            played, played_midi, Path(work), config.sample_rate,
            loop.render_length(played, config.sample_rate),
        )  # fmt: skip
        audio = _checked(backend.render(request), request, midi_path)
        stems = _render_stems(backend, request, config) if config.stems else {}
        for job in writing:
            job.result()
        result = _deliver(midi_path, out_dir, name, config, score, audio, stems, arranged, backend)
    if refresh:
        folder.refresh(out_dir)
    return result


def _prepare_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RenderError(
            f"{out_dir}: cannot create the output folder ({e.strerror or e}); "
            "choose a writable --out"
        ) from e
    if not out_dir.is_dir():
        raise RenderError(f"{out_dir}: not a folder; choose another --out")


def _planned_paths(out_dir: Path, name: str, config: RenderConfig) -> dict[str, Path]:
    paths = {fmt: out_dir / f"{name}.{fmt}" for fmt in config.formats}
    paths["midi"] = out_dir / f"{name}.mid"
    if config.pianoroll:
        paths["pianoroll"] = out_dir / f"{name}.png"
    return paths


def _check_targets(midi_path: Path, planned: dict[str, Path], overwrite: bool) -> None:
    for path in planned.values():
        if path.resolve() == midi_path.resolve():
            raise RenderError(
                f"{path}: the arranged MIDI would replace the input; choose another --out"
            )
        if path.exists() and not overwrite:
            raise RenderError(f"{path}: already exists; pass --overwrite to replace it")


def _check_song(path: Path, song: Song, config: RenderConfig) -> None:
    if not song.notes:
        raise RenderError(f"{path}: no notes to render")
    if all(n.is_drum for n in song.notes):
        raise RenderError(
            f"{path}: only drum notes (channel 10); add a pitched part to render a track"
        )
    for tempo in song.tempos:
        if not config.min_qpm <= tempo.qpm <= config.max_qpm:
            raise RenderError(
                f"{path}: tempo {tempo.qpm:.4g} qpm at tick {tempo.tick} is outside "
                f"{config.min_qpm:g}..{config.max_qpm:g} qpm; fix the tempo in the file"
            )


def _arrange(song: Song, config: RenderConfig) -> ChipScore:
    from chipline.arrange import ArrangeConfig, arrange
    from chipline.arrange.arranger import NTSC_FRAME_HZ, PAL_FRAME_HZ

    frame_hz = PAL_FRAME_HZ if config.region == "pal" else NTSC_FRAME_HZ
    preset = Path(config.preset) if config.preset else None
    arrange_config = ArrangeConfig(
        chip=config.chip, arpeggio=config.arpeggio, preset=preset, frame_hz=frame_hz
    )
    return arrange(song, arrange_config)


def _write_arranged(score: ChipScore, path: Path) -> None:
    from chipline.arrange import write_arranged_midi

    write_arranged_midi(score, path)


def _checked(
    audio: npt.NDArray[np.float32], request: RenderRequest, source: Path
) -> npt.NDArray[np.float32]:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or len(audio) != request.num_samples:
        raise RenderError(
            f"{source}: back end returned shape {audio.shape}, expected ({request.num_samples},)"
        )
    if not np.isfinite(audio).all():
        raise RenderError(f"{source}: back end returned NaN or infinite samples")
    return audio


def _render_stems(
    backend: Backend, request: RenderRequest, config: RenderConfig
) -> dict[str, npt.NDArray[np.float32]]:
    render_stems = getattr(backend, "render_stems", None)
    if render_stems is not None:
        stems: dict[str, npt.NDArray[np.float32]] = render_stems(request)
        return stems
    if backend.name == "chip":
        from chipline import synth

        cfg = synth.SynthConfig(
            sample_rate=config.sample_rate, region=config.region, filter=config.filter
        )
        return dict(synth.render_stems(request.score, cfg, request.num_samples))
    raise RenderError(f"back end {backend.name!r} cannot render stems; render without --stems")


def _deliver(
    source: Path,
    out_dir: Path,
    name: str,
    config: RenderConfig,
    score: ChipScore,
    audio: npt.NDArray[np.float32],
    stems: dict[str, npt.NDArray[np.float32]],
    arranged: Path,
    backend: Backend,
) -> TrackResult:
    sr = config.sample_rate
    render_hash = hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest()
    looped, points = loop.assemble(audio, score, sr, config.loop)
    master, report = normalize(
        looped, sr, config.target_lufs, config.true_peak_dbtp, loop=config.loop
    )
    if report.peak_limited:
        logger.info("%s: the true-peak limiter took the peaks down to reach the target", source)
    gain = np.float32(10 ** (report.gain_db / 20))
    loop_or_none = points if points.length_samples else None
    jobs: list[tuple[str, Path, Any]] = []
    planned = _planned_paths(out_dir, name, config)
    for fmt in config.formats:
        jobs.append(("audio", planned[fmt], _AUDIO_WRITERS[fmt]))
    with Staging() as staging:
        staged = {path: staging.stage(path) for _, path, _ in jobs}
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [
                pool.submit(_write_job, path, staged[path], write, master, sr, loop_or_none, name)
                for _, path, write in jobs
            ]
            _write_job(planned["midi"], staging.stage(planned["midi"]), shutil.copyfile, arranged)
            if config.pianoroll:
                tmp = staging.stage(planned["pianoroll"])
                _write_job(planned["pianoroll"], tmp, pianoroll.write_roll, score)
            stem_paths = _write_stems(staging, out_dir, name, stems, score, config, gain)
            for future in futures:
                future.result()
        staging.commit()
    files = [manifest.file_record(path, out_dir, "audio") for _, path, _ in jobs]
    files += [manifest.file_record(p, out_dir, "stem", voice=v) for v, p in stem_paths.items()]
    files.append(manifest.file_record(planned["midi"], out_dir, "midi"))
    if config.pianoroll:
        files.append(manifest.file_record(planned["pianoroll"], out_dir, "pianoroll"))
    for record in files:
        if record["format"] == "mp3":
            record["bitrate_kbps"] = round(
                8 * record["size_bytes"] / max(len(master) / sr, 1e-9) / 1000, 1
            )
            record["note"] = MP3_NOTE
    entry = _record(
        source, name, config, score, master, points, report, render_hash, files, backend
    )
    folder.write_record(out_dir, entry)
    return TrackResult(source, name, tuple(out_dir / f["path"] for f in files), entry)


def _write_job(final: Path, tmp: Path, write: Any, *args: Any) -> None:
    """Run `write(tmp, *args)`; errors name the final file, not its temporary name."""
    try:
        if write is shutil.copyfile:
            shutil.copyfile(args[0], tmp)
        else:
            write(tmp, *args)
    except OSError as e:
        raise write_error(final, e) from e
    except RenderError as e:
        raise RenderError(str(e).replace(str(tmp), str(final))) from e


def _wav(path: Path, audio: Any, sr: int, points: Any, title: str) -> None:
    writers.write_wav(path, audio, sr, points)


def _ogg(path: Path, audio: Any, sr: int, points: Any, title: str) -> None:
    writers.write_ogg(path, audio, sr, points, title)


def _mp3(path: Path, audio: Any, sr: int, points: Any, title: str) -> None:
    writers.write_mp3(path, audio, sr)


_AUDIO_WRITERS = {"ogg": _ogg, "wav": _wav, "mp3": _mp3}


def _write_stems(
    staging: Staging,
    out_dir: Path,
    name: str,
    stems: dict[str, npt.NDArray[np.float32]],
    score: ChipScore,
    config: RenderConfig,
    gain: np.float32,
) -> dict[str, Path]:
    """Each voice as `<name>.stem-<voice>.wav`: same loop wrap and gain as the mix."""
    paths = {}
    for voice, audio in stems.items():
        path = out_dir / f"{name}.stem-{voice.lower().replace(' ', '-')}.wav"
        if path.exists() and not config.overwrite:
            raise RenderError(f"{path}: already exists; pass --overwrite to replace it")
        looped, points = loop.assemble(
            np.asarray(audio, np.float32), score, config.sample_rate, config.loop
        )
        tmp = staging.stage(path)
        _write_job(
            path,
            tmp,
            writers.write_wav,
            looped * gain,
            config.sample_rate,
            points if points.length_samples else None,
        )
        paths[voice] = path
    return paths


def _record(
    source: Path,
    name: str,
    config: RenderConfig,
    score: ChipScore,
    master: npt.NDArray[np.float32],
    points: loop.LoopPoints,
    report: LoudnessReport,
    render_hash: str,
    files: list[dict[str, Any]],
    backend: Backend,
) -> dict[str, Any]:
    """The track's manifest record (see manifest.schema.json)."""
    settings = asdict(config)
    settings.pop("overwrite")
    settings["formats"] = list(config.formats)
    settings["backend"] = backend.name
    settings["chipline_version"] = __version__
    return {
        "name": name,
        "source": {
            "file": source.name,
            "sha256": sha256_file(source),
            "size_bytes": source.stat().st_size,
        },
        "tempo_qpm": round(score.tempos[0].us_per_beat and 6e7 / score.tempos[0].us_per_beat, 4),
        "bars": round(_bars(score), 4),
        "duration_sec": round(len(master) / config.sample_rate, 6),
        "num_samples": len(master),
        "sample_rate": config.sample_rate,
        "channels": 1 if master.ndim == 1 else int(master.shape[1]),
        "loop": manifest.loop_record(points),
        "loudness": manifest.loudness_record(report),
        "chip": score.chip,
        "render": settings,
        "render_sha256": render_hash,
        "files": files,
    }


def _bars(score: ChipScore) -> float:
    """How many bars the piece spans (fractional), following its time signatures."""
    bars = 0.0
    sigs = score.time_signatures
    for k, sig in enumerate(sigs):
        stop = min(sigs[k + 1].tick if k + 1 < len(sigs) else score.end_tick, score.end_tick)
        bars += max(0, stop - sig.tick) / bar_length_ticks(sig, score.ticks_per_beat)
    return bars
