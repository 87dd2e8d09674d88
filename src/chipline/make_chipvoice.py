"""`chipline make` with a chip-voice model: tracks written in the chip's voices, rendered as is.

The model writes every voice itself (the noise included), in the key, tempo and length asked
for, with the loop (and any intro) in the tokens; nothing is re-arranged. Tracks come in groups
of `variations` that share their opening bars. Every random choice comes from `seed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chipline.arrange import load_preset, write_arranged_midi
from chipline.chip import VOICES, ChipScore
from chipline.encoding import chipvoice as cv
from chipline.errors import ChiplineError, ConfigError, ModelError
from chipline.generate.chipvoice import Controls, generate, prior_key
from chipline.keys import Key, parse_key
from chipline.master import folder
from chipline.model.infer import NumpyLSTM
from chipline.render import RenderConfig, TrackResult, render_score
from chipline.score import Tempo

if TYPE_CHECKING:
    from chipline.make import MakeConfig

TICKS_PER_BEAT = 480  # the delivered MIDI's resolution (the codec's 16th step is 120 ticks)


def model_codec(path: Path) -> str:
    """The codec a model dir or run dir was trained on ("polyphony" or "chipvoice")."""
    from chipline.model.checkpoint import load_config, resolve_model_dir

    return str(load_config(resolve_model_dir(Path(path)))["codec"])


def load_chipvoice_model(path: Path) -> NumpyLSTM:
    """A numpy LSTM over chip-voice tokens. Raises ModelError for a model of another codec."""
    from chipline.model.checkpoint import load_model

    config, weights = load_model(Path(path))
    if config["codec"] != cv.CODEC_NAME or config["vocab_size"] != cv.VOCAB_SIZE:
        raise ModelError(f"{path}: not a chip-voice model (codec {config['codec']!r})")
    return NumpyLSTM(config, weights)


def track_controls(cfg: MakeConfig, render: RenderConfig, key: Key) -> Controls:
    """The sampling controls of one track of `cfg` (loop and chip from `render`)."""
    loop = render.loop and not cfg.stinger
    try:
        return Controls(chip=render.chip, key=key, qpm=cfg.qpm, num_bars=cfg.num_bars,
                        density=cfg.density, voices=cfg.voices or None, loop=loop,
                        intro_bars=cfg.intro_bars, stinger=cfg.stinger,
                        temperature=cfg.temperature,
                        pitch_temperature=cfg.pitch_temperature)  # fmt: skip
    except ConfigError as e:
        raise ConfigError(f"make: {e}") from e


def compose_scores(model: NumpyLSTM, cfg: MakeConfig, render: RenderConfig) -> list[ChipScore]:
    """`cfg.num_tracks` chip scores at `cfg.qpm`, in groups of `cfg.variations` per theme.

    Raises:
        ModelError: a group stayed nearly silent for `cfg.max_attempts` tries.
    """
    from chipline.make import KEY_CHOICES

    rng = np.random.default_rng(cfg.seed)
    scores: list[ChipScore] = []
    while len(scores) < cfg.num_tracks:
        key = parse_key(cfg.key) if cfg.key else _drawn_key(model, rng, KEY_CHOICES)
        controls = track_controls(cfg, render, key)
        count = min(cfg.variations, cfg.num_tracks - len(scores))
        shared = max(1, cfg.num_bars // 4) if count > 1 else 0
        for _ in range(cfg.max_attempts):
            group = [cv.decode(t) for t in generate(model, controls, count, rng, shared)]
            if all(_audible(s) for s in group):
                break
        else:
            raise ModelError(
                f"the model wrote near-silent tracks in {cfg.max_attempts} tries; "
                "try another --seed or a higher --density"
            )
        scores += [delivered_score(s, cfg.qpm, render) for s in group]
    return scores


def _drawn_key(model: NumpyLSTM, rng: np.random.Generator, choices: tuple[str, ...]) -> Key:
    """A key in the shares of the model's training pieces (its `key_prior`), else one of
    `choices`."""
    if not model.key_prior.size:
        return parse_key(str(rng.choice(choices)))
    return prior_key(model, rng)


def _audible(score: ChipScore) -> bool:
    """At least one pitched note per bar on average."""
    bars = score.end_tick // cv.steps_per_bar((4, 4))
    return sum(VOICES[n.voice].kind != "noise" for n in score.notes) >= bars


def delivered_score(score: ChipScore, qpm: float, render: RenderConfig) -> ChipScore:
    """The decoded score at the exact tempo, TICKS_PER_BEAT resolution, with the chip's preset."""
    scale = TICKS_PER_BEAT // cv.STEPS_PER_QUARTER
    preset = load_preset(score.chip, Path(render.preset) if render.preset else None)
    return replace(
        score,
        ticks_per_beat=TICKS_PER_BEAT,
        notes=tuple(
            replace(n, start_tick=n.start_tick * scale, end_tick=n.end_tick * scale)
            for n in score.notes
        ),  # fmt: skip
        tempos=(Tempo(0, round(60_000_000 / qpm)),),
        time_signatures=tuple(replace(s, tick=s.tick * scale) for s in score.time_signatures),
        end_tick=score.end_tick * scale,
        loop_start_tick=score.loop_start_tick * scale,
        instruments=preset.instruments(score.chip),
    )


def make_chipvoice(
    out_dir: Path,
    model_dir: Path,
    cfg: MakeConfig,
    render: RenderConfig,
    on_track: Callable[[TrackResult | ChiplineError], None] | None = None,
) -> list[TrackResult]:
    """Compose with the chip-voice model at `model_dir` and render into `out_dir`.

    Writes each score's arranged MIDI under `OUT/source/`, then the audio with loop points.
    """
    from chipline.make import SOURCE_DIR

    model = load_chipvoice_model(model_dir)
    scores = compose_scores(model, cfg, render)
    source = out_dir / SOURCE_DIR
    source.mkdir(parents=True, exist_ok=True)
    settings = replace(render, overwrite=True, loop=render.loop and not cfg.stinger)
    results = []
    for number, score in enumerate(scores, start=1):
        path = write_arranged_midi(score, source / f"track-{number:02d}.mid")
        result = render_score(score, path, out_dir, settings, refresh=False)
        results.append(result)
        if on_track is not None:
            on_track(result)
    folder.refresh(out_dir)
    return results
