"""The numpy forward pass: step == forward, a float64 reference, and parity with torch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_model import random_model

from chipline.errors import EncodingError
from chipline.model.checkpoint import load_model
from chipline.model.infer import NumpyLSTM

PARITY_ATOL = 1e-5  # float32 numpy vs float32 torch, same equations


def _reference_forward(weights, layer_sizes, tokens):
    """Plain float64 loop over the documented equations (gate order i, f, g, o)."""
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    hs = [np.zeros(n) for n in layer_sizes]
    cs = [np.zeros(n) for n in layer_sizes]
    out = []
    for tok in tokens:
        x = np.zeros(w["lstm.weight_ih_l0"].shape[1])
        x[tok] = 1
        for k in range(len(layer_sizes)):
            z = w[f"lstm.weight_ih_l{k}"] @ x + w[f"lstm.bias_ih_l{k}"]
            z = z + w[f"lstm.weight_hh_l{k}"] @ hs[k] + w[f"lstm.bias_hh_l{k}"]
            i, f, g, o = np.split(z, 4)
            cs[k] = sig(f) * cs[k] + sig(i) * np.tanh(g)
            hs[k] = sig(o) * np.tanh(cs[k])
            x = hs[k]
        out.append(w["head.weight"] @ x + w["head.bias"])
    return np.array(out)


def test_forward_matches_float64_reference_and_step(tmp_path):
    config, weights = random_model(tmp_path / "m", [12, 7])
    net = NumpyLSTM(*load_model(tmp_path / "m"))
    tokens = np.random.default_rng(1).integers(0, 259, size=(3, 9))
    logits = net.forward(tokens)
    assert logits.shape == (3, 9, 259)
    assert logits.dtype == np.float32
    for b in range(3):
        ref = _reference_forward(weights, [12, 7], tokens[b])
        np.testing.assert_allclose(logits[b], ref, atol=1e-4)
    state = net.initial_state(3)
    for t in range(9):
        step_logits, state = net.step(tokens[:, t], state)
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)


def test_bad_tokens_raise(tmp_path):
    net = NumpyLSTM(*random_model(tmp_path / "m", [4]))
    with pytest.raises(EncodingError, match="259"):
        net.step(np.array([259]), net.initial_state(1))
    with pytest.raises(EncodingError, match="integer"):
        net.forward(np.zeros((2, 3), np.float32))


def test_numpy_matches_torch_model(tmp_path):
    torch = pytest.importorskip("torch")
    from chipline.model.lstm import ModelConfig, PolyphonyLSTM

    torch.manual_seed(0)
    model = PolyphonyLSTM(ModelConfig(layer_sizes=(32, 24, 16), dropout=0.5)).eval()
    with torch.no_grad():  # larger-than-init weights so the gates leave their linear range
        for p in model.parameters():
            p.mul_(3.0)
    from chipline.model.checkpoint import save_model

    save_model(tmp_path / "m", model.file_config(), model.export_weights())
    net = NumpyLSTM(*load_model(tmp_path / "m"))
    tokens = np.random.default_rng(2).integers(0, 259, size=(4, 50))
    with torch.no_grad():
        torch_logits, _ = model(torch.from_numpy(tokens))
    np.testing.assert_allclose(net.forward(tokens), torch_logits.numpy(), atol=PARITY_ATOL)


def test_inference_imports_without_torch():
    import subprocess
    import sys

    code = (
        "import sys, chipline.model, chipline.model.infer, chipline.model.checkpoint; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
