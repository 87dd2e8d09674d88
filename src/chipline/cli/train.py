"""`chipline train` (torch, the `[train]` extra) and `chipline import-magenta` (numpy only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from chipline.config import from_mapping
from chipline.errors import ConfigError

INTERRUPTED_EXIT = 130  # the shell's code for a run stopped by Ctrl-C


@click.command(context_settings={"show_default": True})
@click.option(
    "--dataset", type=click.Path(path_type=Path), help="Dataset folder (chipline ingest)."
)
@click.option("--sequence-example-file", "--sequence_example_file", "sequence_example_file",
              type=click.Path(path_type=Path),
              help="Magenta's flag: a file in the dataset folder (uses its folder).")  # fmt: skip
@click.option("--run-dir", "--run_dir", "run_dir", required=True, type=click.Path(path_type=Path),
              help="Checkpoints and metrics go here; an existing run resumes.")  # fmt: skip
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="TOML file with a [train] table (and [train.model]).")  # fmt: skip
@click.option("--hparams", help='Magenta\'s form, e.g. "batch_size=64,rnn_layer_sizes=[128,128]".')
@click.option("--preset", type=click.Choice(["magenta", "tiny"]), help="Model size preset.")
@click.option("--num-training-steps", "--num_training_steps", "num_training_steps", type=int)
@click.option("--batch-size", "--batch_size", "batch_size", type=int)
@click.option("--layer-sizes", help="Comma-separated LSTM sizes, e.g. 128,128,128.")
@click.option("--dropout", type=float, help="Drop probability (1 - Magenta's dropout_keep_prob).")
@click.option("--learning-rate", type=float)
@click.option("--decay-steps", type=int, help="Steps between learning-rate decays (0: constant).")
@click.option("--decay-rate", type=float, help="Factor of each decay, e.g. 0.95 (Magenta's).")
@click.option("--clip-norm", type=float)
@click.option("--window", type=int, help="Events per training window; 0 = whole pieces.")
@click.option("--eval-every", type=int, help="Steps between evals (0: only at the end).")
@click.option("--checkpoint-every", type=int, help="Steps between checkpoints.")
@click.option("--summary-frequency", "--summary_frequency", "log_every", type=int,
              help="Steps between train-loss log lines.")  # fmt: skip
@click.option("--seed", type=int)
@click.option("--num-threads", type=int, help="CPU threads for torch (0: all cores).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]))
def train(**opts: Any) -> None:
    """Train the polyphony LSTM on DATASET; torchrun runs it data-parallel on several GPUs.

    The seed's Magenta command works as is: `chipline train --run_dir=RUN
    --sequence_example_file=DATASET/training_poly_tracks.tfrecord
    --hparams="batch_size=64,rnn_layer_sizes=[128,128,128]" --num_training_steps=1000`.
    """
    try:
        from chipline.model import trainstate
        from chipline.model.train import TrainConfig
        from chipline.model.train import train as run_training
    except ImportError as e:
        raise click.ClickException(
            f"training needs torch ({e}); install it with: pip install 'chipline[train]'"
        ) from e
    dataset = _dataset_dir(opts["dataset"], opts["sequence_example_file"])
    stored = trainstate.stored_config(opts["run_dir"])
    cfg = from_mapping(TrainConfig, build_settings(opts, stored), where="train settings")
    progress = _ProgressBar(cfg.num_training_steps)
    with progress:
        last = run_training(cfg, dataset, opts["run_dir"], progress=progress)
    step = json.loads((last / "state.json").read_text())["position"]["step"]
    if step < cfg.num_training_steps:
        click.echo(f"Interrupted at step {step}; run the same command to resume ({last}).")
        raise SystemExit(INTERRUPTED_EXIT)
    click.echo(f"Trained {step} steps; model: {last}")


@click.command("import-magenta")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Model dir to write (config.json + model.safetensors).")  # fmt: skip
def import_magenta_cmd(source: Path, out_dir: Path) -> None:
    """Convert a Magenta polyphony_rnn run dir or .mag bundle into a chipline model (no TF)."""
    from chipline.model.checkpoint import load_config
    from chipline.model.magenta import import_magenta

    path = import_magenta(source, out_dir)
    config = load_config(path)
    click.echo(f"Imported {source} -> {path} (LSTM {config['layer_sizes']})")


def _dataset_dir(dataset: Path | None, example_file: Path | None) -> Path:
    from_example = None if example_file is None else example_file.parent
    if dataset is not None and from_example is not None and dataset != from_example:
        raise click.UsageError(
            f"--dataset {dataset} and --sequence_example_file in {from_example} disagree; "
            "give one of them"
        )
    found = dataset or from_example
    if found is None:
        raise click.UsageError("give --dataset DATASET (or Magenta's --sequence_example_file)")
    return found


def build_settings(opts: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """Merge (lowest first) the resumed run's config, preset, TOML, --hparams and flags.

    Raises:
        ConfigError: --hparams and a flag set the same value differently.
    """
    from chipline.model.hparams import parse_hparams
    from chipline.model.lstm import PRESETS, model_config_dict

    settings: dict[str, Any] = json.loads(json.dumps(stored)) if stored else {}
    if opts.get("preset"):
        _merge(settings, {"model": model_config_dict(PRESETS[opts["preset"]])})
    if opts.get("config_file"):
        _merge(settings, _toml_table(opts["config_file"]))
    hparams = parse_hparams(opts["hparams"]) if opts.get("hparams") else {}
    flags = _flag_settings(opts)
    _check_agree(hparams, flags)
    _merge(settings, hparams)
    _merge(settings, flags)
    return settings


def _toml_table(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read TOML config ({e})") from e
    table = data.get("train", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [train] must be a table")
    return table


def _flag_settings(opts: dict[str, Any]) -> dict[str, Any]:
    plain = ("num_training_steps", "batch_size", "learning_rate", "decay_steps", "decay_rate",
             "clip_norm", "window", "eval_every", "checkpoint_every", "log_every", "seed",
             "device", "precision", "num_threads")  # fmt: skip
    out: dict[str, Any] = {k: opts[k] for k in plain if opts.get(k) is not None}
    model: dict[str, Any] = {}
    if opts.get("layer_sizes"):
        try:
            model["layer_sizes"] = [int(n) for n in opts["layer_sizes"].split(",")]
        except ValueError as e:
            raise ConfigError(f"--layer-sizes: {opts['layer_sizes']!r} is not like 128,128") from e
    if opts.get("dropout") is not None:
        model["dropout"] = opts["dropout"]
    if model:
        out["model"] = model
    return out


def _check_agree(hparams: dict[str, Any], flags: dict[str, Any], where: str = "") -> None:
    for key, value in hparams.items():
        if key not in flags:
            continue
        if isinstance(value, dict):
            _check_agree(value, flags[key], f"{where}{key}.")
        elif flags[key] != value:
            raise ConfigError(
                f"--hparams sets {where}{key}={value!r} but a flag sets {flags[key]!r}; "
                "give it once"
            )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


class _ProgressBar:
    """A tqdm bar with loss and events/s; eval results printed above it."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __enter__(self) -> _ProgressBar:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: nothing left running after the command
        self.bar = tqdm(total=self.total, unit="step", dynamic_ncols=True)
        return self

    def __call__(self, row: dict[str, Any]) -> None:
        self.bar.n = row["step"]
        if row["split"] == "eval":
            self.bar.write(
                f"step {row['step']}: eval loss {row['loss']:.4f} "
                f"(perplexity {row['perplexity']:.2f}, accuracy {row['accuracy']:.3f}, "
                f"event accuracy {row['event_accuracy']:.3f})"
            )
        else:
            self.bar.set_postfix(loss=f"{row['loss']:.3f}", ev_s=f"{row['events_per_sec']:.0f}")
        self.bar.refresh()

    def __exit__(self, *_: object) -> None:
        self.bar.close()
