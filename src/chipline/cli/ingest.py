"""`chipline ingest`: a folder of MIDI files into a training dataset (Magenta's two steps)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from chipline.config import load_toml, override
from chipline.dataset import DatasetConfig, build_dataset
from chipline.dataset.store import REPORT_FILE

_DIR = click.Path(path_type=Path)


@click.command()
@click.argument("midi_dir", required=False, type=_DIR)
@click.option("--out", "--output_dir", "--output-dir", "out", type=_DIR, help="Dataset folder.")
@click.option(
    "--input_dir", "--input-dir", "--input", "input_dir", type=_DIR, help="Same as MIDI_DIR."
)
@click.option("--eval-ratio", "--eval_ratio", type=float, help="Share of pieces held out [0.10].")
@click.option("--recursive", is_flag=True, default=None, help="Include sub-folders.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, path_type=Path),
    help="TOML file with a [dataset] table.",
)
@click.option("--min-steps", "--min_steps", type=int, help="Shortest part kept, 16th steps [80].")
@click.option("--max-steps", "--max_steps", type=int, help="Longest window, 16th steps [512].")
@click.option(
    "--long-pieces",
    "--long_pieces",
    type=click.Choice(["window", "discard"]),
    help="Cut parts longer than max-steps into windows, or drop them [window].",
)
@click.option(
    "--transpose", type=str, help="Transposition range, e.g. -4..4 [-4..4]; 0..0 for none."
)
@click.option(
    "--split-file",
    "--split_file",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON {"train": [...], "eval": [...]} of file names: a fixed split.',
)
@click.option("--seed", "split_seed", type=int, help="Seed of the train/eval split [0].")
@click.option("--workers", "num_workers", type=int, help="Worker processes [one per CPU].")
@click.option(
    "--codec",
    type=click.Choice(["polyphony", "chipvoice"]),
    default="polyphony",
    help="polyphony (Magenta's) or chipvoice (arranged for the chip, in bars) [polyphony].",
)
@click.option("--chip", "chips", multiple=True, help="chipvoice: chips to arrange for [nes].")
@click.option("--max-bars", type=int, help="chipvoice: longest window in bars [16].")
def ingest(
    midi_dir: Path | None,
    out: Path | None,
    input_dir: Path | None,
    config_file: Path | None,
    transpose: str | None,
    codec: str,
    chips: tuple[str, ...],
    max_bars: int | None,
    **flags: Any,
) -> None:
    """Encode the MIDI files in MIDI_DIR into a dataset folder for `chipline train`.

    Pieces are split where tempo or metre change, quantised to 16th steps, transposed by -4..+4
    and split into train and eval by file. Rejected pieces are listed in DATASET/report.jsonl.
    """
    source = _source(midi_dir, input_dir)
    if out is None:
        raise click.UsageError("missing the dataset folder: give --out DATASET")
    cfg = load_toml(config_file, DatasetConfig, "dataset") if config_file else DatasetConfig()
    if transpose is not None:
        flags["transpose_min"], flags["transpose_max"] = _range(transpose)
    if codec == "chipvoice":
        counts = _ingest_chipvoice(source, out, flags, chips, max_bars)
        click.echo(_summary(out, counts))
        return
    cfg = override(cfg, **flags)
    with _Bar() as bar:
        counts = build_dataset(source, out, cfg, progress=bar.update)
    click.echo(_summary(out, counts))


def _ingest_chipvoice(
    source: Path, out: Path, flags: dict[str, Any], chips: tuple[str, ...], max_bars: int | None
) -> dict[str, Any]:
    from chipline.dataset.chipvoice import ChipVoiceDatasetConfig, build_chipvoice_dataset

    keys = ("transpose_min", "transpose_max", "eval_ratio", "split_seed", "split_file")
    given = {k: flags[k] for k in (*keys, "recursive", "num_workers") if flags.get(k) is not None}
    if chips:
        given["chips"] = chips
    if max_bars is not None:
        given["max_bars"] = max_bars
    return build_chipvoice_dataset(source, out, override(ChipVoiceDatasetConfig(), **given))


def _source(midi_dir: Path | None, input_dir: Path | None) -> Path:
    if midi_dir and input_dir and midi_dir != input_dir:
        raise click.UsageError(f"two input folders given ({midi_dir} and {input_dir}); give one")
    source = midi_dir or input_dir
    if source is None:
        raise click.UsageError("missing the MIDI folder: chipline ingest MIDI_DIR --out DATASET")
    if source.suffix == ".tfrecord":
        raise click.UsageError(
            f"{source} is a Magenta NoteSequence file; chipline reads MIDI directly: give the "
            "folder of MIDI files (the one you passed to convert_dir_to_note_sequences)"
        )
    return source


def _range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(x) for x in text.split(".."))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected LOW..HIGH, e.g. -4..4", param_hint="--transpose"
        ) from None
    return low, high


class _Bar:
    """A progress bar on stderr, created once the number of files is known."""

    def __enter__(self) -> _Bar:
        self.bar: Any = None
        return self

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Encoding", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _summary(out: Path, c: dict[str, Any]) -> str:
    rejected = sum(c["rejected"].values())
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(c["rejected"].items()))
    lines = [
        f"{out}: {c['train_sequences']:,} train + {c['eval_sequences']:,} eval sequences "
        f"({c['train_tokens']:,} + {c['eval_tokens']:,} tokens) from {c['files_read']:,} of "
        f"{c['files']:,} files, {c['parts']:,} parts, {c['windows']:,} windows",
    ]
    if rejected:
        lines.append(f"rejected {rejected:,} ({why}); see {out / REPORT_FILE}")
    return "\n".join(lines)
