"""`chipline make`: new tracks from the bundled model, arranged and rendered into a game folder.

The line: sample `num_tracks` pieces (a tonic-triad primer, a tempered sampler), drop the ones
that are not musical enough and sample again with the next seed, move each to its key
(Krumhansl–Schmuckler estimate, then a transposition), add a drum groove for the noise channel,
write the MIDI under `OUT/source/` and render everything with `chipline.render`. Every random
choice comes from `seed`, so the same options give the same folder byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from chipline.encoding import polyphony
from chipline.errors import ChiplineError, ConfigError, ModelError
from chipline.generate import SampleConfig, load_generator, sample_songs
from chipline.generate.primer import Primer
from chipline.keys import Key, parse_key
from chipline.master import folder
from chipline.model.infer import NumpyLSTM
from chipline.render import RenderConfig, TrackResult, render_file, render_files
from chipline.score import Note, Song, Tempo, TimeSignature, write_midi
from chipline.tonality import shift_to, song_key, transpose

SOURCE_DIR = "source"  # the generated (unarranged) MIDI, inside the output folder
STEPS_PER_BAR = 4 * polyphony.STEPS_PER_QUARTER  # 4/4
TICKS_PER_STEP = polyphony.MAGENTA_TICKS_PER_BEAT // polyphony.STEPS_PER_QUARTER
# Keys drawn when --key is not given: the ones chip soundtracks use most.
KEY_CHOICES = ("C", "D", "E", "F", "G", "A", "Am", "Dm", "Em", "Cm", "Gm", "Bm")
# One bar of 16 steps per groove: (kick steps, snare steps, closed-hat steps), General MIDI keys.
GROOVES = (
    ((0, 8), (4, 12), (0, 2, 4, 6, 8, 10, 12, 14)),  # straight rock beat
    ((0, 6, 8), (4, 12), (0, 2, 4, 6, 8, 10, 12, 14)),  # with a pushed kick
    ((0, 3, 8, 11), (4, 12), (0, 4, 8, 12)),  # driving
    ((0,), (8,), (0, 2, 4, 6, 8, 10, 12, 14)),  # half time
)
FILL_SNARE_STEPS = (12, 13, 14, 15)  # the last bar's fill, leading back to the loop start
KICK, SNARE, CLOSED_HAT, CRASH = 36, 38, 42, 49
DRUM_CHANNEL = 9


MAKE_RENDER = RenderConfig(formats=("ogg",))  # make's default: OGG, the usual game format


@dataclass(frozen=True)
class MakeConfig:
    """What `chipline make` writes (TOML table `[make]`); the audio settings are RenderConfig's."""

    num_tracks: int = 4
    num_bars: int = 16
    qpm: float = 120.0
    key: str = ""  # e.g. "Am", "Bb"; empty: drawn per track (see compose and make_chipvoice)
    seed: int = 0
    temperature: float = 0.9
    pitch_temperature: float | None = None  # the notes' pitches; None: the temperature
    drums: bool = True
    min_notes_per_bar: float = 3.0  # fewer pitched notes than this per bar: sample again
    max_attempts: int = 8
    model: str = ""  # model or run dir, or a bundled model (BUNDLED_MODELS); empty: "default"
    num_workers: int = 1  # render processes (0: one per CPU); on a busy machine 1 is fastest
    # Chip-voice models only (`make_chipvoice`): the header controls and the form.
    density: int = 2  # 0 sparse .. 3 busy
    voices: int = 0  # how many of the chip's voices play (noise included); 0: the model's choice
    intro_bars: int = 0  # bars played once before the loop
    stinger: bool = False  # a 1-4 bar one-shot ending on the tonic
    variations: int = 1  # tracks per theme (they share their opening bars)

    def __post_init__(self) -> None:
        checks = {
            "num_tracks": 1 <= self.num_tracks <= 99,
            "num_bars": 1 <= self.num_bars <= 256,
            "qpm": 20 <= self.qpm <= 400,
            "temperature": 0 < self.temperature <= 5,
            "pitch_temperature": self.pitch_temperature is None or 0 < self.pitch_temperature <= 5,
            "max_attempts": self.max_attempts >= 1,
            "variations": self.variations >= 1,
            "voices": self.voices >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"make: {bad[0]}={getattr(self, bad[0])!r} is out of range "
                "(tracks 1..99, bars 1..256, qpm 20..400, temperature in (0, 5])"
            )
        if self.key:
            parse_key(self.key)


BUNDLED_MODELS = ("default", "chipvoice")  # shipped in the package: chipline/models/NAME/


def bundled_model_dir(name: str = "default") -> Path:
    """A model shipped inside the package (`chipline/models/NAME/`)."""
    path = Path(str(resources.files("chipline").joinpath("models", name)))
    if not (path / "config.json").is_file():
        raise ModelError(f"{path}: the bundled {name} model is missing; reinstall chipline")
    return path


def model_dir(model: str) -> Path:
    """The model dir that `model` (`MakeConfig.model`) names: a model or run dir, else a
    bundled model's name; empty: the default model. A path wins over a name."""
    if not model:
        return bundled_model_dir()
    if Path(model).exists():
        return Path(model)
    if model in BUNDLED_MODELS:
        return bundled_model_dir(model)
    raise ConfigError(
        f"{model}: no such model dir or run dir, and not a bundled model "
        f"({', '.join(BUNDLED_MODELS)})"
    )


def compose(model: NumpyLSTM, cfg: MakeConfig) -> list[Song]:
    """`cfg.num_tracks` musical songs of `cfg.num_bars` 4/4 bars, in order, from `cfg.seed`.

    Raises:
        ModelError: the model gave too few musical pieces in `cfg.max_attempts` rounds.
    """
    rng = np.random.default_rng(cfg.seed)
    keys = [parse_key(cfg.key or str(rng.choice(KEY_CHOICES))) for _ in range(cfg.num_tracks)]
    grooves = rng.integers(len(GROOVES), size=cfg.num_tracks).tolist()
    num_steps = cfg.num_bars * STEPS_PER_BAR
    found: dict[int, Song] = {}
    for attempt in range(cfg.max_attempts):
        for minor in (False, True):
            wanted = [i for i in range(cfg.num_tracks) if keys[i].minor == minor and i not in found]
            if not wanted:
                continue
            sample = SampleConfig(
                num_outputs=len(wanted) + 2, num_steps=num_steps, qpm=cfg.qpm,
                temperature=cfg.temperature, pitch_temperature=cfg.pitch_temperature,
                condition_on_primer=True,
                inject_primer_during_generation=False, seed=cfg.seed * 1000 + attempt * 2 + minor,
            )  # fmt: skip
            good = [s for s in sample_songs(model, sample, _primer(minor)) if _musical(s, cfg)]
            for index, song in zip(wanted, good, strict=False):
                found[index] = song
    if len(found) < cfg.num_tracks:
        raise ModelError(
            f"the model wrote only {len(found)} of {cfg.num_tracks} musical pieces in "
            f"{cfg.max_attempts} rounds; try another --seed or a lower --temperature"
        )
    return [_finish(found[i], keys[i], grooves[i], cfg) for i in range(cfg.num_tracks)]


def _primer(minor: bool) -> Primer:
    """A tonic triad with its root an octave below, one quarter note: C major or A minor."""
    root = 57 if minor else 60
    third = 3 if minor else 4
    pitches = (root - 12, root, root + third, root + 7)
    return Primer(tuple((0, polyphony.STEPS_PER_QUARTER, p) for p in pitches))


def _musical(song: Song, cfg: MakeConfig) -> bool:
    """Enough notes, spread over most bars, using more than a handful of pitch classes."""
    notes = [n for n in song.notes if not n.is_drum]
    bar_ticks = STEPS_PER_BAR * TICKS_PER_STEP
    bars_with_onsets = {n.start_tick // bar_ticks for n in notes}
    return (
        len(notes) >= cfg.min_notes_per_bar * cfg.num_bars
        and len(bars_with_onsets) >= 0.75 * cfg.num_bars
        and len({n.pitch % 12 for n in notes}) >= 4
    )


def _finish(song: Song, key: Key, groove: int, cfg: MakeConfig) -> Song:
    """Into `key`, at `cfg.qpm` in 4/4, with drums; exactly `cfg.num_bars` bars long."""
    song = transpose(song, shift_to(song_key(song), key))
    end_tick = cfg.num_bars * STEPS_PER_BAR * TICKS_PER_STEP
    drums = _drums(groove, cfg.num_bars) if cfg.drums else []
    return replace(
        song,
        notes=tuple(sorted((*song.notes, *drums))),
        tempos=(Tempo(0, round(60_000_000 / cfg.qpm)),),
        time_signatures=(TimeSignature(0, 4, 4),),
        end_tick=end_tick,
    )


def _drums(groove: int, num_bars: int) -> list[Note]:
    """GROOVES[groove] in every bar, a snare fill in the last, a crash on the first beat."""
    kick, snare, hat = GROOVES[groove]
    hits = [(0, CRASH, 110)]
    for bar in range(num_bars):
        base = bar * STEPS_PER_BAR
        last = bar == num_bars - 1 and num_bars > 1
        hits += [(base + s, KICK, 120) for s in kick]
        hits += [(base + s, SNARE, 110) for s in (FILL_SNARE_STEPS if last else snare)]
        hits += [(base + s, CLOSED_HAT, 70) for s in hat if not (last and s >= 12)]
    return [
        Note(step * TICKS_PER_STEP, (step + 1) * TICKS_PER_STEP, pitch, velocity, DRUM_CHANNEL)
        for step, pitch, velocity in hits
    ]


def make(
    out_dir: Path,
    cfg: MakeConfig = MakeConfig(),
    render: RenderConfig = MAKE_RENDER,
    on_track: Callable[[TrackResult | ChiplineError], None] | None = None,
) -> list[TrackResult]:
    """Compose, arrange and render `cfg.num_tracks` tracks into `out_dir` (see the module doc).

    With `render.overwrite` an earlier `chipline make` folder is cleared of its tracks first;
    without it a folder that holds anything is refused.

    Raises:
        ConfigError: `out_dir` is not empty (without overwrite).
        ModelError: the model cannot be loaded or writes nothing musical.
        ChiplineError: the first track that failed to render.
    """
    out_dir = Path(out_dir)
    from chipline.make_chipvoice import make_chipvoice, model_codec

    path = model_dir(cfg.model)
    codec = model_codec(path)  # a model dir that cannot be read is refused before any clearing
    _clear(out_dir, render.overwrite)
    if codec == "chipvoice":
        return make_chipvoice(out_dir, path, cfg, render, on_track)
    model = load_generator(path)
    songs = compose(model, cfg)
    source = out_dir / SOURCE_DIR
    source.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, song in enumerate(songs, start=1):
        paths.append(source / f"track-{number:02d}.mid")
        write_midi(song, paths[-1])
    return render_tracks(paths, out_dir, replace(render, overwrite=True), cfg.num_workers, on_track)


def render_tracks(
    paths: list[Path],
    out_dir: Path,
    render: RenderConfig,
    num_workers: int = 1,
    on_track: Callable[[TrackResult | ChiplineError], None] | None = None,
) -> list[TrackResult]:
    """Render `paths` into `out_dir` with up to `num_workers` processes (0: one per CPU), then
    write the folder's manifest and gallery once. The files do not depend on the worker count.

    Raises:
        ChiplineError: the first track (in order) that failed.
    """
    workers = min(len(paths), num_workers or os.cpu_count() or 1)
    if workers <= 1:
        results = render_files(paths, out_dir, render, on_file=on_track)
    else:
        # forkserver: workers start from a clean process, never a fork of one with threads
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["chipline.render"])
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_render_one, path, out_dir, render, path.stem) for path in paths]
            for future in as_completed(futures):
                if on_track is not None:
                    on_track(future.result())
            results = [future.result() for future in futures]
        if any(isinstance(r, TrackResult) for r in results):
            folder.refresh(out_dir)
    for result in results:
        if isinstance(result, ChiplineError):
            raise result
    return [r for r in results if isinstance(r, TrackResult)]


def _render_one(
    path: Path, out_dir: Path, render: RenderConfig, name: str
) -> TrackResult | ChiplineError:
    try:
        return render_file(path, out_dir, render, name=name, refresh=False)
    except ChiplineError as e:
        return e


def _clear(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty `out_dir`, or with `overwrite` remove the tracks an earlier run left."""
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return
    if not overwrite:
        raise ConfigError(
            f"{out_dir}: the folder is not empty; pass --overwrite to replace an earlier "
            "`chipline make` there, or choose a new folder"
        )
    for record in folder.read_records(out_dir):
        for file in record.get("files", []):
            (out_dir / str(file.get("path", ""))).unlink(missing_ok=True)
    shutil.rmtree(out_dir / folder.RECORDS_DIR, ignore_errors=True)
    shutil.rmtree(out_dir / SOURCE_DIR, ignore_errors=True)
    for name in (folder.MANIFEST_NAME, folder.GALLERY_NAME):
        (out_dir / name).unlink(missing_ok=True)
