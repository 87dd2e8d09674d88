"""Sequence models over codec tokens: file format and numpy inference here, torch in lstm/train."""

from chipline.model.checkpoint import load_model, save_model
from chipline.model.infer import NumpyLSTM

__all__ = ["NumpyLSTM", "load_model", "save_model"]
