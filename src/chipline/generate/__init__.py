"""New pieces from a trained model, in numpy only (torch is never imported here).

`generate()` is what `chipline generate` runs: load the model, build the primer's prefix,
sample every output in one batch (see `sampler`), and write one MIDI file per output, named like
Magenta's (`<YYYY-mm-dd_HHMMSS>_<NN>.mid`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from chipline.encoding import polyphony
from chipline.errors import ConfigError, ModelError
from chipline.generate.primer import Primer
from chipline.generate.sampler import Search, generate_tokens
from chipline.model.infer import NumpyLSTM
from chipline.score import Note, Song, Tempo, write_midi


@dataclass(frozen=True)
class SampleConfig:
    """What `chipline generate` makes; defaults are Magenta's polyphony_rnn_generate flags."""

    num_outputs: int = 10
    num_steps: int = 128  # 16th steps per output, the primer included
    qpm: float | None = None  # None: the MIDI primer's tempo, else 120
    temperature: float = 1.0
    pitch_temperature: float | None = None  # a new note's pitch; None: the temperature
    beam_size: int = 1
    branch_factor: int = 1
    steps_per_iteration: int = 1
    condition_on_primer: bool = False
    inject_primer_during_generation: bool = True
    seed: int | None = None

    def __post_init__(self) -> None:
        checks = {
            "num_outputs": self.num_outputs >= 1,
            "num_steps": self.num_steps >= 1,
            "temperature": self.temperature > 0,
            "pitch_temperature": self.pitch_temperature is None or self.pitch_temperature > 0,
            "beam_size": self.beam_size >= 1,
            "branch_factor": self.branch_factor >= 1,
            "steps_per_iteration": self.steps_per_iteration >= 1,
            "qpm": self.qpm is None or self.qpm > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"generate: {bad[0]}={getattr(self, bad[0])!r} must be positive "
                "(num_outputs, num_steps, beam_size, branch_factor and steps_per_iteration >= 1)"
            )


def sample_songs(model: NumpyLSTM, cfg: SampleConfig, primer: Primer) -> list[Song]:
    """Generate `cfg.num_outputs` songs of `cfg.num_steps` steps from `primer`.

    As in Magenta, the primer is always part of the output: conditioned on, the model continues
    it; otherwise the model starts afresh where the primer ends. Injection plays the primer's
    notes into the first generated steps. Unlike Magenta, generation starts right at the end of
    the primer (Magenta leaves one empty 16th step there, and at the start when unprimed).

    Raises:
        ConfigError: the primer is as long as the requested piece or longer.
    """
    start = primer.num_steps
    if start >= cfg.num_steps:
        raise ConfigError(
            f"the primer lasts {start} steps but only {cfg.num_steps} were asked for; "
            "raise --num-steps (16th steps) or shorten the primer"
        )
    conditioned = cfg.condition_on_primer and bool(primer.notes)
    prefix = primer.tokens() if conditioned else np.array([polyphony.START], np.uint16)
    inject = primer.step_events() if cfg.inject_primer_during_generation else []
    search = Search(cfg.temperature, cfg.beam_size, cfg.branch_factor, cfg.steps_per_iteration,
                    cfg.pitch_temperature)  # fmt: skip
    # One event at a time means many tiny matrix products: extra BLAS threads only contend.
    with threadpool_limits(limits=1, user_api="blas"):
        outputs = generate_tokens(
            model,
            prefix,
            cfg.num_steps if conditioned else cfg.num_steps - start,
            cfg.num_outputs,
            search,
            np.random.default_rng(cfg.seed),
            inject=inject,
            inject_start_step=start if conditioned else 0,
        )
    qpm = cfg.qpm or primer.qpm or polyphony.DEFAULT_QPM
    return [
        _song(tokens, primer, 0 if conditioned else start, qpm, cfg.num_steps) for tokens in outputs
    ]


def _song(tokens: np.ndarray, primer: Primer, offset: int, qpm: float, num_steps: int) -> Song:
    notes, _ = polyphony.decode_notes(tokens)
    if offset:
        notes = list(primer.notes) + [(s + offset, e + offset, p) for s, e, p in notes]
    tick = polyphony.MAGENTA_TICKS_PER_BEAT // polyphony.STEPS_PER_QUARTER
    return Song(
        ticks_per_beat=polyphony.MAGENTA_TICKS_PER_BEAT,
        notes=tuple(sorted(Note(s * tick, e * tick, p) for s, e, p in notes)),
        tempos=(Tempo(0, round(60_000_000 / qpm)),),
        end_tick=num_steps * tick,
    )


def output_paths(output_dir: Path, count: int, now: float | None = None) -> list[Path]:
    """Magenta's names `<YYYY-mm-dd_HHMMSS>_<NN>.mid` (NN from 1, as wide as `count`).

    Where a file of that name exists already, `-2`, `-3`, ... follows the time instead of
    overwriting it.
    """
    stamp = time.strftime("%Y-%m-%d_%H%M%S", time.localtime(now))
    digits = len(str(count))
    for attempt in range(1, 1000):
        base = stamp if attempt == 1 else f"{stamp}-{attempt}"
        paths = [output_dir / f"{base}_{i:0{digits}d}.mid" for i in range(1, count + 1)]
        if not any(p.exists() for p in paths):
            return paths
    raise ConfigError(f"{output_dir}: too many outputs with the time stamp {stamp}")


def write_songs(songs: list[Song], output_dir: Path) -> list[Path]:
    """Write each song atomically into `output_dir` under Magenta's names."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = output_paths(output_dir, len(songs))
    for song, path in zip(songs, paths, strict=True):
        write_midi(song, path)
    return paths


def load_generator(path: Path) -> NumpyLSTM:
    """A numpy LSTM from a model dir, a run dir (newest checkpoint) or a weights file.

    A Magenta polyphony_rnn run dir or `.mag` bundle is converted on the fly.
    """
    from chipline.model.checkpoint import load_model

    path = Path(path)
    if is_magenta(path):
        config, weights = _read_magenta(path)
    else:
        config, weights = load_model(path)
    return _checked(NumpyLSTM(config, weights), path)


def is_magenta(path: Path) -> bool:
    """Whether `path` is a Magenta polyphony_rnn bundle (`.mag`) or run dir."""
    return path.suffix == ".mag" or (path / "train" / "checkpoint").is_file()


def _read_magenta(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.exists():
        raise ModelError(f"{path}: no such Magenta bundle or run dir")
    try:
        from chipline.model.magenta import convert, read_magenta
    except ImportError as e:
        raise ModelError(f"{path}: this chipline cannot read Magenta models ({e})") from e
    tensors, origin = read_magenta(path)
    return convert(tensors, where=origin)


def _checked(model: NumpyLSTM, where: Path) -> NumpyLSTM:
    from chipline.encoding import chipvoice

    if model.vocab_size == chipvoice.VOCAB_SIZE:
        raise ModelError(
            f"{where}: a chip-voice model; write tracks with it by "
            f"`chipline make --model {where} --out DIR`"
        )
    if model.vocab_size != polyphony.VOCAB_SIZE:
        raise ModelError(
            f"{where}: model has {model.vocab_size} classes but the polyphony codec has "
            f"{polyphony.VOCAB_SIZE}; it was not trained on this encoding"
        )
    return model
