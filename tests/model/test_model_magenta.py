"""Importing the real Magenta fixture: logits and states equal Magenta's own within 1e-4."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from chipline.errors import ModelError
from chipline.model import magenta
from chipline.model.checkpoint import load_model
from chipline.model.infer import NumpyLSTM
from chipline.model.magenta import import_magenta
from conftest import shared_data

MAGENTA_ATOL = 1e-4  # the fixture's stated tolerance; a float32 re-implementation gets ~2e-6


@pytest.fixture(scope="module")
def reference():
    return json.loads(shared_data("magenta-fixture", "reference.json").read_text())


def _sources():
    return ["run_dir", "polyphony_128x3.mag"]


def _check_against_reference(net, reference):
    for seq in reference["sequences"]:
        tokens = np.array([seq["input_indices"]])
        logits = net.forward(tokens)[0]
        want = np.array(seq["logits"], np.float32)
        np.testing.assert_allclose(logits, want, atol=MAGENTA_ATOL, err_msg=seq["name"])
        state = net.initial_state(1)
        for tok in seq["input_indices"]:
            _, state = net.step(np.array([tok]), state)
        for k, (h, c) in enumerate(state):
            final = seq["final_state"][f"layer_{k}"]
            np.testing.assert_allclose(h[0], final["h"], atol=MAGENTA_ATOL)
            np.testing.assert_allclose(c[0], final["c"], atol=MAGENTA_ATOL)


@pytest.mark.parametrize("source", _sources())
def test_imported_numpy_logits_match_magenta(tmp_path, reference, source):
    out = import_magenta(shared_data("magenta-fixture", source), tmp_path / "m")
    config, weights = load_model(out)
    assert config["layer_sizes"] == [128, 128, 128]
    _check_against_reference(NumpyLSTM(config, weights), reference)


@pytest.mark.parametrize("source", _sources())
def test_imported_torch_logits_match_magenta(tmp_path, reference, source):
    torch = pytest.importorskip("torch")
    from chipline.model.lstm import PolyphonyLSTM, config_from_file

    config, weights = load_model(
        import_magenta(shared_data("magenta-fixture", source), tmp_path / "m")
    )
    model = PolyphonyLSTM(config_from_file(config)).eval()
    model.import_weights(weights)
    for seq in reference["sequences"]:
        with torch.no_grad():
            logits, _ = model(torch.tensor([seq["input_indices"]]))
        want = np.array(seq["logits"], np.float32)
        np.testing.assert_allclose(logits[0].numpy(), want, atol=MAGENTA_ATOL)


def test_wrong_gate_order_misses(tmp_path, reference, monkeypatch):
    monkeypatch.setattr(magenta, "TF_TO_TORCH_GATES", (0, 1, 2, 3))
    source = shared_data("magenta-fixture", "run_dir")
    net = NumpyLSTM(*load_model(import_magenta(source, tmp_path / "m")))
    seq = reference["sequences"][0]
    error = np.abs(net.forward(np.array([seq["input_indices"]]))[0] - np.array(seq["logits"]))
    assert error.max() > 0.1


def test_absolute_path_from_another_machine_falls_back_to_basename(tmp_path, reference):
    train = tmp_path / "run" / "train"
    shutil.copytree(shared_data("magenta-fixture", "run_dir", "train"), train)
    (train / "checkpoint").write_text(
        'model_checkpoint_path: "/elsewhere/logdir/run1/train/model.ckpt-100"\n'
    )
    config, _ = load_model(import_magenta(tmp_path / "run", tmp_path / "m"))
    assert config["training"]["global_step"] == 100


def test_corrupt_and_missing_checkpoints_raise(tmp_path):
    train = tmp_path / "run" / "train"
    shutil.copytree(shared_data("magenta-fixture", "run_dir", "train"), train)
    index = train / "model.ckpt-100.index"
    index.write_bytes(index.read_bytes()[:-20])
    with pytest.raises(ModelError, match="corrupt checkpoint index"):
        import_magenta(tmp_path / "run", tmp_path / "m")
    (train / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-7"\n')
    with pytest.raises(ModelError, match="model.ckpt-7"):
        import_magenta(tmp_path / "run", tmp_path / "m")
    with pytest.raises(ModelError, match="no Magenta checkpoint"):
        import_magenta(tmp_path, tmp_path / "m")


def test_bad_bundles_raise(tmp_path):
    data = shared_data("magenta-fixture", "polyphony_128x3.mag").read_bytes()
    (tmp_path / "cut.mag").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cut.mag"):
        import_magenta(tmp_path / "cut.mag", tmp_path / "m")
    melody = data.replace(b"\n\tpolyphony", b"\n\tmelodyrnn", 1)
    (tmp_path / "melody.mag").write_bytes(melody)
    with pytest.raises(ModelError, match="only polyphony_rnn"):
        import_magenta(tmp_path / "melody.mag", tmp_path / "m")
