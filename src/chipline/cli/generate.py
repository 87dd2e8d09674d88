"""`chipline generate`: new MIDI pieces from a trained model (numpy only, no torch)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from chipline.errors import ConfigError, ModelError

_PATH = click.Path(path_type=Path)


def _bool(*names: str, default: bool, help: str) -> Any:
    """A Magenta boolean: `--flag`, `--flag=true` and `--flag=false` all work."""
    return click.option(
        *names, type=click.BOOL, default=default, is_flag=False, flag_value=True,
        show_default=True, help=help,
    )  # fmt: skip


@click.command()
@click.option("--run-dir", "--run_dir", "run_dir", type=_PATH,
              help="A training run (its newest checkpoint is used).")  # fmt: skip
@click.option("--model", "model_dir", type=_PATH, help="A model dir (config.json + weights).")
@click.option("--bundle-file", "--bundle_file", "bundle_file", type=_PATH,
              help="A Magenta .mag bundle, converted on the fly.")  # fmt: skip
@click.option("--output-dir", "--output_dir", "output_dir", type=_PATH, default=Path("generated"),
              show_default=True, help="Where the MIDI files go.")  # fmt: skip
@click.option("--num-outputs", "--num_outputs", "num_outputs", type=int, default=10,
              show_default=True)  # fmt: skip
@click.option("--num-steps", "--num_steps", "num_steps", type=int,
              help="Length in 16th steps, primer included [128].")  # fmt: skip
@click.option("--bars", type=int, help="Length in 4/4 bars (16 steps each) instead of --num-steps.")
@click.option("--qpm", type=float, help="Tempo [the MIDI primer's, else 120].")
@click.option("--primer-melody", "--primer_melody", "primer_melody",
              help='Melody per 16th: pitch, -1 off, -2 hold; e.g. "[60,-2,62]".')  # fmt: skip
@click.option("--primer-pitches", "--primer_pitches", "primer_pitches",
              help='A chord held for a quarter note, e.g. "[67,64,60]".')  # fmt: skip
@click.option("--primer-midi", "--primer_midi", "primer_midi", type=_PATH,
              help="A MIDI file to start from.")  # fmt: skip
@_bool("--condition-on-primer", "--condition_on_primer", default=False,
       help="Feed the primer to the model before generating.")  # fmt: skip
@_bool("--inject-primer-during-generation", "--inject_primer_during_generation", default=True,
       help="Play the primer's notes into the generated steps (to harmonise it).")  # fmt: skip
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--pitch-temperature", type=float,
              help="Temperature of a new note's pitch alone [--temperature].")  # fmt: skip
@click.option("--beam-size", "--beam_size", "beam_size", type=int, default=1, show_default=True)
@click.option("--branch-factor", "--branch_factor", "branch_factor", type=int, default=1,
              show_default=True)  # fmt: skip
@click.option("--steps-per-iteration", "--steps_per_iteration", "steps_per_iteration", type=int,
              default=1, show_default=True, help="Events between beam prunings.")  # fmt: skip
@click.option("--seed", type=int, help="Random seed, for repeatable outputs.")
@click.option("--hparams", help="Magenta's hparams; checked against the model's own sizes.")
def generate(**opts: Any) -> None:
    """Write new MIDI pieces from a trained model into --output-dir.

    Magenta's command works as is, e.g. `chipline generate --run_dir=RUN
    --output_dir=generated --num_outputs=10 --num_steps=128 --primer_melody="[20]"
    --condition_on_primer=true --inject_primer_during_generation=false`.
    """
    from chipline import generate as gen

    source = _model_source(opts)
    primer = _primer(opts)
    cfg = gen.SampleConfig(
        num_outputs=opts["num_outputs"],
        num_steps=_num_steps(opts["num_steps"], opts["bars"]),
        qpm=opts["qpm"],
        temperature=opts["temperature"],
        pitch_temperature=opts["pitch_temperature"],
        beam_size=opts["beam_size"],
        branch_factor=opts["branch_factor"],
        steps_per_iteration=opts["steps_per_iteration"],
        condition_on_primer=opts["condition_on_primer"],
        inject_primer_during_generation=opts["inject_primer_during_generation"],
        seed=opts["seed"],
    )
    model = gen.load_generator(source)
    if opts["hparams"]:
        _check_hparams(opts["hparams"], model.layer_sizes, source)
    paths = gen.write_songs(gen.sample_songs(model, cfg, primer), opts["output_dir"])
    click.echo(f"Wrote {len(paths)} MIDI files to {opts['output_dir']} ({paths[0].name} ...)")


def _model_source(opts: dict[str, Any]) -> Path:
    given = [(flag, opts[key]) for flag, key in
             (("--run-dir", "run_dir"), ("--model", "model_dir"), ("--bundle-file", "bundle_file"))
             if opts[key] is not None]  # fmt: skip
    if not given:
        raise click.UsageError("no model: give --run-dir RUN, --model MODEL or --bundle-file X.mag")
    if len(given) > 1:
        names = " and ".join(flag for flag, _ in given)
        raise click.UsageError(f"{names} both name a model; give only one")
    return Path(given[0][1])


def _primer(opts: dict[str, Any]) -> Any:
    from chipline.generate import primer

    given = [key for key in ("primer_melody", "primer_pitches", "primer_midi") if opts[key]]
    if len(given) > 1:
        flags = " and ".join("--" + key.replace("_", "-") for key in given)
        raise click.UsageError(f"{flags} both give a primer; give only one")
    try:
        if opts["primer_melody"]:
            return primer.from_melody(opts["primer_melody"])
        if opts["primer_pitches"]:
            return primer.from_pitches(opts["primer_pitches"])
    except ConfigError as e:
        raise click.BadParameter(str(e)) from e
    if opts["primer_midi"]:
        return primer.from_midi(opts["primer_midi"])
    return primer.Primer()


def _num_steps(num_steps: int | None, bars: int | None) -> int:
    if num_steps is not None and bars is not None:
        raise click.UsageError("--num-steps and --bars both set the length; give only one")
    if bars is not None:
        return bars * 16
    return 128 if num_steps is None else num_steps


def _check_hparams(text: str, layer_sizes: list[int], source: Path) -> None:
    try:
        from chipline.model.hparams import parse_hparams
    except ImportError:  # an older model package: read only the sizes
        match = re.search(r"rnn_layer_sizes\s*=\s*\[([\d,\s]*)\]", text)
        wanted = [int(n) for n in match.group(1).split(",") if n.strip()] if match else None
    else:
        wanted = parse_hparams(text).get("model", {}).get("layer_sizes")
    if wanted is not None and list(wanted) != list(layer_sizes):
        raise ModelError(
            f"{source}: the model has rnn_layer_sizes={list(layer_sizes)} but --hparams says "
            f"{list(wanted)}; drop --hparams (the model knows its sizes) or pick the right model"
        )
