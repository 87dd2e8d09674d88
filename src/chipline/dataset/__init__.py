"""MIDI folder → dataset folder of encoded sequences (see `store` for the layout on disk)."""

from chipline.dataset.build import build_dataset, find_midi_files
from chipline.dataset.pieces import DatasetConfig
from chipline.dataset.store import Dataset, Sequences, load_dataset

__all__ = [
    "Dataset",
    "DatasetConfig",
    "Sequences",
    "build_dataset",
    "find_midi_files",
    "load_dataset",
]
