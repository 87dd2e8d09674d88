"""Render a ChipScore: driver frames → timer-exact level changes → mixer → band-limited audio."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from chipline.chip import VOICES, ChipScore
from chipline.errors import ConfigError, RenderError
from chipline.synth import apu, blep, filters, mix, noise, tables
from chipline.synth.driver import VoiceFrames, num_frames_for, release_frames, voice_frames
from chipline.synth.filters import FilterName
from chipline.synth.tables import RegionName

FloatArray = npt.NDArray[np.float64]
TAIL_SEC = 0.05  # silence after the last release, for the filters and kernels to settle


@dataclass(frozen=True)
class SynthConfig:
    """How to render: output sample rate, console region (clock), output filter profile."""

    sample_rate: int = 44100
    region: RegionName = "ntsc"
    filter: FilterName = "clean"

    def __post_init__(self) -> None:
        if not 8000 <= self.sample_rate <= 192_000:
            raise ConfigError(f"sample_rate {self.sample_rate}: use 8000..192000 Hz")
        if self.region not in tables.REGIONS:
            raise ConfigError(f"region {self.region!r}: use one of {sorted(tables.REGIONS)}")
        if self.filter not in filters.PROFILES:
            raise ConfigError(f"filter {self.filter!r}: use one of {sorted(filters.PROFILES)}")


DEFAULT_CONFIG = SynthConfig()


def default_num_samples(score: ChipScore, config: SynthConfig) -> int:
    """The piece up to `end_tick`, plus the longest release and a short settling tail."""
    region = tables.REGIONS[config.region]
    tail_sec = (release_frames(score) + 1) / region.frame_hz + TAIL_SEC
    return int(np.ceil((float(score.tick_to_sec(score.end_tick)) + tail_sec) * config.sample_rate))


@dataclass(frozen=True)
class _Context:
    score: ChipScore
    config: SynthConfig
    num_samples: int
    frame_start: npt.NDArray[np.int64]
    cycles_per_sample: float

    def frames(self, voice: str) -> VoiceFrames:
        num_frames = len(self.frame_start) - 1
        return voice_frames(self.score, voice, num_frames, self.config.region)

    def synthesize(self, steps: _Steps, box: _Steps | None = None) -> FloatArray:
        """Band-limited `steps` plus area-sampled `box` steps, each (CPU cycles, deltas)."""
        cps = self.cycles_per_sample
        blep_steps = [(c / cps, d) for c, d in zip(steps.cycles, steps.deltas, strict=True)]
        box_steps = []
        if box is not None:
            box_steps = [(c / cps, d) for c, d in zip(box.cycles, box.deltas, strict=True)]
        return blep.synthesize(blep_steps, self.num_samples, box=box_steps)

    def noise(self, frames: VoiceFrames, box: _Steps) -> FloatArray:
        """The fast-LFSR part of a noise voice as samples; its slow part is added to `box`."""
        value = mix.NOISE_TABLE[frames.volume]
        samples, cycles, deltas = noise.noise_output(
            frames, self.frame_start, value, self.num_samples, self.cycles_per_sample
        )
        box.add(cycles, deltas)
        return samples


@dataclass
class _Steps:
    """Level changes collected for one synthesis pass: CPU cycles and heights.

    Each added pair is in time order (what `blep.synthesize` needs).
    """

    cycles: list[np.ndarray] = field(default_factory=list)
    deltas: list[np.ndarray] = field(default_factory=list)

    def add(self, cycles: np.ndarray, deltas: np.ndarray) -> None:
        self.cycles.append(cycles)
        self.deltas.append(deltas)


def _context(score: ChipScore, config: SynthConfig, num_samples: int | None) -> _Context:
    unknown = sorted({n.voice for n in score.notes} - set(score.voices))
    if unknown:
        raise RenderError(
            f"score for chip {score.chip!r} has notes on {unknown}: "
            f"its voices are {list(score.voices)}; re-arrange for the right chip"
        )
    if num_samples is None:
        num_samples = default_num_samples(score, config)
    if num_samples < 0:
        raise RenderError(f"num_samples {num_samples} is negative")
    region = tables.REGIONS[config.region]
    num_frames = num_frames_for(num_samples, config.sample_rate, region)
    return _Context(
        score,
        config,
        num_samples,
        apu.frame_starts(num_frames, region),
        region.cpu_hz / config.sample_rate,
    )


def _tonal_changes(ctx: _Context, voice: str, frames: VoiceFrames) -> tuple[np.ndarray, FloatArray]:
    """Mixer-output changes of one non-noise voice heard alone."""
    if frames.kind == "pulse":
        return _through_pulse_curve([apu.pulse_edges(frames, ctx.frame_start)])
    if frames.kind == "vrc6_pulse":
        cycles, raw = apu.vrc6_pulse_edges(frames, ctx.frame_start)
        order = np.argsort(cycles, kind="stable")
        return cycles[order], (mix.VRC6_STEP * raw[order]).astype(np.float64)
    if frames.kind == "triangle":
        events = apu.triangle_events(frames, ctx.frame_start)
        return apu.changes(events, mix.TRIANGLE_TABLE[events.level])
    events = apu.saw_events(frames, ctx.frame_start)
    return apu.changes(events, mix.VRC6_STEP * events.level)


def _through_pulse_curve(
    edges: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, FloatArray]:
    """Pulse level changes (any order) summed in time order and mapped through the pulse curve."""
    cycle = np.concatenate([c for c, _ in edges])
    order = np.argsort(cycle, kind="stable")
    total = np.cumsum(np.concatenate([d for _, d in edges])[order])
    return apu.changes(apu.LevelEvents(cycle[order], total), mix.PULSE_TABLE[total])


def mix_unfiltered(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> FloatArray:
    """The mixer output before the output filter: float64, shape (num_samples,), in [0, ~1.3]."""
    ctx = _context(score, config, num_samples)
    pulses = [v for v in score.voices if VOICES[v].kind == "pulse"]
    steps, box = _Steps(), _Steps()
    if pulses:
        edges = [apu.pulse_edges(ctx.frames(v), ctx.frame_start) for v in pulses]
        steps.add(*_through_pulse_curve(edges))
    noise_parts = []
    for voice in score.voices:
        kind = VOICES[voice].kind
        if kind == "noise":
            noise_parts.append(ctx.noise(ctx.frames(voice), box))
        elif kind != "pulse":
            steps.add(*_tonal_changes(ctx, voice, ctx.frames(voice)))
    out = ctx.synthesize(steps, box)
    for part in noise_parts:
        out += part
    return out


def stems_unfiltered(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> dict[str, FloatArray]:
    """Each voice through the mixer as if the others were silent, before the output filter."""
    ctx = _context(score, config, num_samples)
    stems: dict[str, FloatArray] = {}
    for voice in score.voices:
        frames = ctx.frames(voice)
        steps, box = _Steps(), _Steps()
        if frames.kind == "noise":
            samples = ctx.noise(frames, box)
            stems[voice] = samples + ctx.synthesize(steps, box)
        else:
            steps.add(*_tonal_changes(ctx, voice, frames))
            stems[voice] = ctx.synthesize(steps)
    return stems


def finish(x: FloatArray, config: SynthConfig) -> npt.NDArray[np.float32]:
    """Output filter, then float32 clipped to [-1, 1]."""
    y = filters.apply(x, config.filter, config.sample_rate)
    return np.clip(y, -1.0, 1.0, out=y).astype(np.float32)
