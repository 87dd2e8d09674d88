"""The built-in back end: the score rendered by chipline's own 2A03/VRC6 synthesizer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chipline.bridge.base import RenderRequest
from chipline.synth import SynthConfig, render
from chipline.synth.filters import FilterName
from chipline.synth.tables import RegionName


@dataclass(frozen=True)
class ChipBackend:
    """Renders `RenderRequest.score` with `chipline.synth` (region and filter fixed per backend)."""

    region: RegionName = "ntsc"
    filter: FilterName = "clean"
    name: str = "chip"

    def render(self, request: RenderRequest) -> npt.NDArray[np.float32]:
        """Mono float32, shape (request.num_samples,), in [-1, 1]; needs no external program."""
        config = SynthConfig(request.sample_rate, self.region, self.filter)
        return render(request.score, config, request.num_samples)
