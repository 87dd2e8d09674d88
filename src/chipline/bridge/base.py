"""The render back-end interface: an arranged score in, raw audio out.

Everything after the render (loop assembly, loudness, encoding, manifest, gallery) is shared by
all back ends and lives in `chipline.master`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from chipline.chip import ChipScore


@dataclass(frozen=True)
class RenderRequest:
    """One job for a back end.

    `arranged_midi` is the arranged multi-track MIDI of `score` (one track per voice, named by
    voice), already written; `work_dir` is a private scratch folder for this job.
    `num_samples` is how many samples to return: the piece plus a tail for ringing notes.
    """

    score: ChipScore
    arranged_midi: Path
    work_dir: Path
    sample_rate: int
    num_samples: int


class Backend(Protocol):
    name: str

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        """Render the request: float32, shape (num_samples,) mono or (num_samples, 2), in [-1, 1].

        Raises:
            RenderError: (or BridgeError) with a message that says what to do.
        """
        ...
