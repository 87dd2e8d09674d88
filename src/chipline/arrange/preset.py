"""Chip instrument presets: per-voice duty, volume envelope, release and default volume (TOML)."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chipline.chip import CHIP_VOICES, VOICES, ChipName, Instrument
from chipline.config import from_mapping
from chipline.errors import ConfigError

# TOML table name -> voice name (voice names hold spaces, which TOML keys would have to quote).
VOICE_KEYS: dict[str, str] = {
    "pulse1": "Pulse 1",
    "pulse2": "Pulse 2",
    "triangle": "Triangle",
    "noise": "Noise",
    "vrc6_pulse1": "VRC6 Pulse 1",
    "vrc6_pulse2": "VRC6 Pulse 2",
    "vrc6_saw": "VRC6 Saw",
}

# Largest duty/timbre value per voice kind: 2A03 pulse 4 duties, VRC6 pulse 8, noise 2 modes.
MAX_DUTY = {"pulse": 3, "vrc6_pulse": 7, "noise": 1, "triangle": 0, "saw": 0}


@dataclass(frozen=True)
class VoicePreset:
    """How one voice sounds: `duty` (see `Instrument`), 4-bit envelope and release, and the
    `volume` (0..15) a note of MIDI velocity 127 gets."""

    duty: int = 2
    envelope: tuple[int, ...] = (15,)
    release: tuple[int, ...] = ()
    volume: int = 15

    def instrument(self) -> Instrument:
        return Instrument(duty=self.duty, envelope=self.envelope, release=self.release)


@dataclass(frozen=True)
class Preset:
    """One table per voice; a chip uses the tables of its voices (`chip.CHIP_VOICES`)."""

    pulse1: VoicePreset = VoicePreset()
    pulse2: VoicePreset = VoicePreset()
    triangle: VoicePreset = VoicePreset()
    noise: VoicePreset = VoicePreset()
    vrc6_pulse1: VoicePreset = VoicePreset()
    vrc6_pulse2: VoicePreset = VoicePreset()
    vrc6_saw: VoicePreset = VoicePreset()

    def voice(self, name: str) -> VoicePreset:
        key = next(k for k, v in VOICE_KEYS.items() if v == name)
        result: VoicePreset = getattr(self, key)
        return result

    def instruments(self, chip: ChipName) -> dict[str, Instrument]:
        return {name: self.voice(name).instrument() for name in CHIP_VOICES[chip]}


def load_preset(chip: ChipName = "nes", path: Path | None = None) -> Preset:
    """The built-in preset of `chip`, with the voice tables of the TOML file `path` laid over it.

    A voice table in `path` replaces only the keys it names (for example `[pulse1] duty = 0`).

    Raises:
        ConfigError: `path` is unreadable, not TOML, has an unknown key or an out-of-range value.
    """
    if chip not in CHIP_VOICES:
        raise ConfigError(f"unknown chip {chip!r}; choose one of {', '.join(CHIP_VOICES)}")
    builtin = resources.files("chipline").joinpath("templates", "chip", f"{chip}.toml")
    data = _read(builtin.read_text(encoding="utf-8"), f"built-in preset {chip}.toml")
    where = f"built-in preset {chip}.toml"
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read preset ({e.strerror or e})") from e
        user = _read(text, str(path))
        for key, table in user.items():
            if key in data and isinstance(table, dict) and isinstance(data[key], dict):
                data[key] = {**data[key], **table}
            else:
                data[key] = table
        where = str(path)
    preset = from_mapping(Preset, data, where=where)
    _validate(preset, chip, where)
    return preset


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML ({e})") from e


def _validate(preset: Preset, chip: ChipName, where: str) -> None:
    for field in dataclasses.fields(Preset):
        if VOICE_KEYS[field.name] not in CHIP_VOICES[chip]:
            continue
        vp: VoicePreset = getattr(preset, field.name)
        kind = VOICES[VOICE_KEYS[field.name]].kind
        if not 0 <= vp.duty <= MAX_DUTY[kind]:
            raise ConfigError(
                f"{where} [{field.name}]: duty {vp.duty} is out of range 0..{MAX_DUTY[kind]}"
            )
        for name, levels in (("envelope", vp.envelope), ("release", vp.release)):
            if any(not 0 <= v <= 15 for v in levels):
                raise ConfigError(f"{where} [{field.name}]: {name} values must be in 0..15")
        if not vp.envelope:
            raise ConfigError(f"{where} [{field.name}]: envelope needs at least one value")
        if not 0 <= vp.volume <= 15:
            raise ConfigError(f"{where} [{field.name}]: volume {vp.volume} is out of range 0..15")
