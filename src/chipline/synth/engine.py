"""Render a ChipScore: driver frames → timer-exact level changes → mixer → band-limited audio."""

from __future__ import annotations

from collections.abc import Iterator
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

    def increment_blocks(self, parts: _Parts) -> Iterator[FloatArray]:
        """First differences of the output, in blocks (see `blep.increment_blocks`)."""
        cps = self.cycles_per_sample
        return blep.increment_blocks(
            [(c / cps, d) for c, d in parts.steps],
            self.num_samples,
            box=[(c / cps, d) for c, d in parts.box],
            impulses=parts.impulses,
        )

    def unfiltered(self, parts: _Parts) -> FloatArray:
        w = blep.CLEAN.half_width
        incr = np.concatenate([np.zeros(0), *self.increment_blocks(parts)])
        return np.cumsum(incr)[w : w + self.num_samples]

    def filtered(self, parts: _Parts) -> npt.NDArray[np.float32]:
        """Output filter, then float32 clipped to [-1, 1]."""
        cfg = self.config
        return filters.filter_increments(
            self.increment_blocks(parts),
            blep.CLEAN.half_width,
            self.num_samples,
            cfg.filter,
            cfg.sample_rate,
        )

    def add_noise(self, frames: VoiceFrames, parts: _Parts) -> None:
        out = noise.noise_output(
            frames,
            self.frame_start,
            mix.NOISE_TABLE[frames.volume],
            self.num_samples,
            self.cycles_per_sample,
        )
        parts.box.append((out.cycle, out.delta))
        parts.impulses.append((out.sample_index, out.sample_value))


@dataclass
class _Parts:
    """What one synthesis pass sums: band-limited steps and box steps (CPU cycles, heights),
    per-sample values (indices, values); each entry in time order."""

    steps: list[tuple[np.ndarray, FloatArray]] = field(default_factory=list)
    box: list[tuple[np.ndarray, FloatArray]] = field(default_factory=list)
    impulses: list[tuple[np.ndarray, FloatArray]] = field(default_factory=list)


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


def _mix_parts(ctx: _Context) -> _Parts:
    parts = _Parts()
    pulses = [v for v in ctx.score.voices if VOICES[v].kind == "pulse"]
    if pulses:
        edges = [apu.pulse_edges(ctx.frames(v), ctx.frame_start) for v in pulses]
        parts.steps.append(_through_pulse_curve(edges))
    for voice in ctx.score.voices:
        kind = VOICES[voice].kind
        if kind == "noise":
            ctx.add_noise(ctx.frames(voice), parts)
        elif kind != "pulse":
            parts.steps.append(_tonal_changes(ctx, voice, ctx.frames(voice)))
    return parts


def _voice_parts(ctx: _Context, voice: str) -> _Parts:
    """One voice through the mixer as if the others were silent."""
    parts = _Parts()
    frames = ctx.frames(voice)
    if frames.kind == "noise":
        ctx.add_noise(frames, parts)
    else:
        parts.steps.append(_tonal_changes(ctx, voice, frames))
    return parts


def mix_unfiltered(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> FloatArray:
    """The mixer output before the output filter: float64, shape (num_samples,), in [0, ~1.3]."""
    ctx = _context(score, config, num_samples)
    return ctx.unfiltered(_mix_parts(ctx))


def stems_unfiltered(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> dict[str, FloatArray]:
    """Each voice through the mixer as if the others were silent, before the output filter."""
    ctx = _context(score, config, num_samples)
    return {voice: ctx.unfiltered(_voice_parts(ctx, voice)) for voice in score.voices}


def render_mix(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> npt.NDArray[np.float32]:
    """The filtered mix: float32, shape (num_samples,), in [-1, 1]."""
    ctx = _context(score, config, num_samples)
    return ctx.filtered(_mix_parts(ctx))


def render_voices(
    score: ChipScore, config: SynthConfig = DEFAULT_CONFIG, num_samples: int | None = None
) -> dict[str, npt.NDArray[np.float32]]:
    """Each voice alone through the mixer and the output filter (see `stems_unfiltered`)."""
    ctx = _context(score, config, num_samples)
    return {voice: ctx.filtered(_voice_parts(ctx, voice)) for voice in score.voices}
