"""`chipline eval MODEL`: held-out NLL per token, perplexity, and Yang–Lerch sample quality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

_PATH = click.Path(exists=True, path_type=Path)


def _references(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, Path, Path | None]]:
    """NAME=MIDI_DIR or NAME=MIDI_DIR:DATASET (only the files that DATASET held out)."""
    out = []
    for text in values:
        name, _, rest = text.partition("=")
        folder, _, dataset = rest.partition(":")
        if not name or not folder:
            raise click.BadParameter(f"{text!r}: expected NAME=MIDI_DIR[:DATASET]")
        out.append((name, Path(folder), Path(dataset) if dataset else None))
    return out


@click.command("eval")
@click.argument("model", type=_PATH)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    type=_PATH,
    help="Dataset folder; its eval split is scored (repeatable).",
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    callback=_references,
    help="NAME=MIDI_DIR[:DATASET] real pieces for sample quality; with DATASET only "
    "the files it held out (repeatable).",
)
@click.option(
    "--max-tokens",
    type=int,
    default=0,
    show_default=True,
    help="Score a seeded sample of eval sequences of about this many tokens (0: all).",
)
@click.option(
    "--num-samples",
    type=int,
    default=50,
    show_default=True,
    help="Pieces to generate (and real pieces per half) for sample quality.",
)
@click.option(
    "--steps",
    "num_steps",
    type=int,
    default=128,
    show_default=True,
    help="16th steps per generated piece; real pieces are cut to the same length.",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Sampling temperature of the generated pieces (chipline make samples at 0.9).",
)
@click.option(
    "--pitch-temperature",
    type=click.FloatRange(min=0, min_open=True),
    help="Temperature of the generated notes' pitches alone [--temperature].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
def eval_cmd(
    model: Path,
    datasets: tuple[Path, ...],
    references: list[Any],
    max_tokens: int,
    num_samples: int,
    num_steps: int,
    temperature: float,
    pitch_temperature: float | None,
    seed: int,
    as_json: bool,
) -> None:
    """Score MODEL (a model or run dir): NLL on held-out data, sample quality against real music.

    NLL is per token of the model's codec (a dataset ingested with that codec), so it compares
    models of one codec. Sample quality compares any two: Yang & Lerch's mean overlapping area
    (1 = indistinguishable by nine note statistics, 0 = nothing alike), shown with the
    real-vs-real ceiling and a random-notes floor.
    """
    from chipline import evaluate
    from chipline.dataset import load_dataset

    if not datasets and not references:
        raise click.UsageError("give --dataset and/or --reference")
    net = evaluate.load_scored_model(model)
    report: dict[str, Any] = {"model": str(model), "nll": {}, "sample_quality": {},
                              "temperature": temperature,
                              "pitch_temperature": pitch_temperature or temperature}  # fmt: skip
    for dataset in datasets:
        nll = evaluate.dataset_nll(net, dataset, max_tokens, seed)
        report["nll"][str(dataset)] = nll.__dict__
        if not as_json:
            click.echo(
                f"{dataset}: {nll.nll_per_event:.4f} nats/event, perplexity "
                f"{nll.perplexity:.3f} over {nll.num_events:,} events "
                f"({nll.num_sequences:,} sequences)"
            )
    if references:
        generated = evaluate.generated_pieces(
            net, num_samples, num_steps, seed, temperature, pitch_temperature
        )
        if not as_json:
            click.echo(
                f"Yang-Lerch mean overlapping area, {num_samples} pieces of {num_steps} "
                f"16th steps at temperature {temperature:g}"
                + (f", pitches at {pitch_temperature:g}" if pitch_temperature else "")
                + " (real vs real = ceiling, random "
                "notes = floor):"
            )
            click.echo(f"  {'reference':12s} {'ceiling':>8s} {'model':>8s} {'floor':>8s}")
    for name, folder, dataset in references:
        files = sorted(folder.glob("*.mid"))
        if dataset is not None:
            held = set(load_dataset(dataset).meta.get("eval_files", []))
            files = [f for f in files if f.name in held]
        real = evaluate.real_pieces(files, num_steps, 2 * num_samples, seed)
        rows = evaluate.sample_quality(real, generated, seed)
        report["sample_quality"][name] = rows | {"num_real": len(real)}
        if not as_json:
            c, m, f = (rows[k]["mean"] for k in ("ceiling", "model", "floor"))
            click.echo(f"  {name:12s} {c:8.3f} {m:8.3f} {f:8.3f}")
    if as_json:
        click.echo(json.dumps(report, indent=1))
