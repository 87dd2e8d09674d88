"""config.py: TOML into frozen dataclasses, unknown keys rejected with the valid ones listed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from chipline.config import from_mapping, load_toml, override
from chipline.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Inner:
    rate_hz: float = 1.0
    names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Outer:
    mode: Literal["a", "b"] = "a"
    count: int = 3
    folder: Path | None = None
    inner: Inner = Inner()


def test_builds_nested_frozen_dataclasses_with_coercion():
    cfg = from_mapping(
        Outer, {"count": 5, "folder": "out", "inner": {"rate_hz": 2, "names": ["x"]}}
    )
    assert cfg == Outer(count=5, folder=Path("out"), inner=Inner(rate_hz=2.0, names=("x",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.count = 1  # type: ignore[misc]


def test_unknown_key_names_it_and_lists_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"cfg\.inner: unknown key 'rate'; valid keys are: names, rate_hz"
    ):
        from_mapping(Outer, {"inner": {"rate": 2}}, where="cfg")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": "5"}, "config.count: expected int"),
        ({"count": True}, "config.count: expected int"),
        ({"mode": "c"}, "config.mode: 'c' is not one of 'a', 'b'"),
        ({"inner": 3}, "config.inner: expected a table"),
    ],
)
def test_wrong_types_are_refused(data, message):
    with pytest.raises(ConfigError, match=message):
        from_mapping(Outer, data)


def test_load_toml_reads_a_section_and_names_the_file(tmp_path):
    path = tmp_path / "chipline.toml"
    path.write_text('[render]\nmode = "b"\n[render.inner]\nrate_hz = 4.5\n')
    assert load_toml(path, Outer, "render") == Outer(mode="b", inner=Inner(rate_hz=4.5))
    path.write_text("[render\n")
    with pytest.raises(ConfigError, match=f"{path}: not valid TOML"):
        load_toml(path, Outer, "render")
    with pytest.raises(ConfigError, match="missing.toml: cannot read config"):
        load_toml(tmp_path / "missing.toml", Outer)


def test_override_applies_only_given_flags():
    assert override(Outer(count=5), count=None, mode="b") == Outer(mode="b", count=5)
