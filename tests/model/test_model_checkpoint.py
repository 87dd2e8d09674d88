"""The model file format: round trip, run-dir resolution, and clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers_model import random_model

from chipline.errors import ModelError
from chipline.model.checkpoint import load_model, save_model


def test_round_trip_is_bit_exact(tmp_path):
    config, weights = random_model(tmp_path / "m", [16, 8])
    loaded_config, loaded = load_model(tmp_path / "m")
    assert loaded_config == config
    assert set(loaded) == set(weights)
    for name, array in weights.items():
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], array)


def test_run_dir_resolves_to_newest_checkpoint(tmp_path):
    random_model(tmp_path / "run" / "checkpoints" / "step-00000010", [8], seed=1)
    _, newest = random_model(tmp_path / "run" / "checkpoints" / "step-00000200", [8], seed=2)
    (tmp_path / "run" / "checkpoints" / "step-00000300").mkdir()  # incomplete: skipped
    _, loaded = load_model(tmp_path / "run")
    np.testing.assert_array_equal(loaded["head.bias"], newest["head.bias"])


def test_weights_file_path_is_accepted(tmp_path):
    random_model(tmp_path / "m", [8])
    config, _ = load_model(tmp_path / "m" / "model.safetensors")
    assert config["layer_sizes"] == [8]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("codec_version", 2, "polyphony encoding version 2"),
        ("format_version", 9, "model file format version 9"),
        ("codec", "melody", "codec 'melody'"),
        ("format", "other", "not a chipline model"),
        ("key_prior", [1.0] * 12, "key_prior must be 24 shares"),
        ("key_prior", [-1.0] + [1.0] * 23, "key_prior must be 24 shares"),
        ("key_prior", [0] * 24, "key_prior must be 24 shares"),
    ],
)
def test_other_versions_are_refused_with_what_to_do(tmp_path, key, value, message):
    random_model(tmp_path / "m", [8])
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config[key] = value
    path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match=message):
        load_model(tmp_path / "m")


def test_corrupt_files_raise_model_error(tmp_path):
    random_model(tmp_path / "m", [8])
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelError, match="corrupt weights"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="corrupt model config"):
        load_model(tmp_path / "m")


def test_shape_mismatch_and_missing_paths(tmp_path):
    config, weights = random_model(tmp_path / "m", [8])
    config["layer_sizes"] = [9]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="shape"):
        load_model(tmp_path / "m")
    with pytest.raises(ModelError, match="no such"):
        load_model(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="import-magenta"):
        load_model(tmp_path / "empty")
    weights["head.bias"] = weights["head.bias"] * np.nan
    with pytest.raises(ModelError, match="NaN"):
        save_model(tmp_path / "nan", json.loads((tmp_path / "m" / "config.json").read_text())
                   | {"layer_sizes": [8]}, weights)  # fmt: skip
