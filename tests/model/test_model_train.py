"""Training: loss falls, eval is the mean cross-entropy, resume is exact, bad input refused."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from helpers_model import write_dataset

torch = pytest.importorskip("torch")

from chipline.errors import ConfigError, ModelError  # noqa: E402
from chipline.model.batches import load_splits  # noqa: E402
from chipline.model.checkpoint import load_model  # noqa: E402
from chipline.model.infer import NumpyLSTM  # noqa: E402
from chipline.model.lstm import PRESETS  # noqa: E402
from chipline.model.train import TrainConfig, evaluate, learning_rate_at, train  # noqa: E402

TINY = TrainConfig(
    model=dataclasses.replace(PRESETS["tiny"], dropout=0.3),
    batch_size=4,
    window=24,
    num_training_steps=12,
    eval_every=6,
    checkpoint_every=4,
    learning_rate=3e-3,
    device="cpu",
    num_threads=1,  # 2 shared cores: more threads only add contention for such tiny matrices
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("ds") / "ds")


def _metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_training_lowers_eval_loss_and_writes_a_model(tmp_path, dataset):
    last = train(TINY, dataset, tmp_path / "run")
    evals = [r for r in _metrics(tmp_path / "run") if r["split"] == "eval"]
    assert [r["step"] for r in evals] == [6, 12]
    assert evals[-1]["loss"] < 5.0 < np.log(259) + 0.5
    config, weights = load_model(tmp_path / "run")
    assert config["training"]["step"] == 12
    assert last.name == "step-00000012"
    assert len(list((tmp_path / "run" / "checkpoints").iterdir())) == 3  # steps 4, 8, 12


def test_eval_loss_is_the_mean_cross_entropy_of_the_numpy_model(tmp_path, dataset):
    train(TINY, dataset, tmp_path / "run")
    from chipline.model.lstm import PolyphonyLSTM, config_from_file

    config, weights = load_model(tmp_path / "run")
    model = PolyphonyLSTM(config_from_file(config))
    model.import_weights(weights)
    eval_split = load_splits(dataset)[1]
    got = evaluate(model, eval_split, dataclasses.replace(TINY, eval_batch_events=100), "cpu")
    net = NumpyLSTM(config, weights)
    nll, hits, count = 0.0, 0, 0
    for i, length in enumerate(eval_split.lengths.tolist()):
        seq = eval_split.tokens[eval_split.offsets[i] : eval_split.offsets[i] + length]
        logits = net.forward(seq[None, :-1].astype(np.int64))[0].astype(np.float64)
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        nll -= logp[np.arange(length - 1), seq[1:]].sum()
        hits += int((logits.argmax(-1) == seq[1:]).sum())
        count += length - 1
    assert got["num_events"] == count
    assert got["loss"] == pytest.approx(nll / count, abs=1e-4)
    assert got["accuracy"] == pytest.approx(hits / count)


def test_resume_equals_an_uninterrupted_run(tmp_path, dataset):
    train(TINY, dataset, tmp_path / "straight")
    train(dataclasses.replace(TINY, num_training_steps=5), dataset, tmp_path / "split")
    train(TINY, dataset, tmp_path / "split")
    _, straight = load_model(tmp_path / "straight")
    _, resumed = load_model(tmp_path / "split")
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    opt_a = (tmp_path / "straight/checkpoints/step-00000012/optimizer.safetensors").read_bytes()
    opt_b = (tmp_path / "split/checkpoints/step-00000012/optimizer.safetensors").read_bytes()
    assert opt_a == opt_b


def test_resume_refuses_contradicting_settings_and_corrupt_state(tmp_path, dataset):
    train(dataclasses.replace(TINY, num_training_steps=2), dataset, tmp_path / "run")
    other = dataclasses.replace(TINY, batch_size=8)
    with pytest.raises(ConfigError, match="batch_size=4 \\(asked 8\\)"):
        train(other, dataset, tmp_path / "run")
    (tmp_path / "run/checkpoints/step-00000002/optimizer.safetensors").write_bytes(b"junk")
    with pytest.raises(ModelError, match="corrupt training state"):
        train(TINY, dataset, tmp_path / "run")


def test_learning_rate_decays_in_stairs_and_resumes_on_the_stair(tmp_path, dataset):
    decaying = dataclasses.replace(TINY, decay_steps=4, decay_rate=0.5, log_every=1)
    assert [learning_rate_at(decaying, s) for s in (0, 3, 4, 11)] == [3e-3, 3e-3, 1.5e-3, 7.5e-4]
    assert learning_rate_at(TINY, 11) == 3e-3
    train(dataclasses.replace(decaying, num_training_steps=6), dataset, tmp_path / "run")
    train(decaying, dataset, tmp_path / "run")
    rows = [r for r in _metrics(tmp_path / "run") if r["split"] == "train"]
    assert [r["learning_rate"] for r in rows] == [learning_rate_at(decaying, s) for s in range(12)]
    train(TINY, dataset, tmp_path / "straight")
    _, constant = load_model(tmp_path / "straight")
    _, decayed = load_model(tmp_path / "run")
    assert any(not np.array_equal(constant[k], decayed[k]) for k in constant)
    with pytest.raises(ConfigError, match="decay_rate=0.5 \\(asked 1.0\\)"):
        train(dataclasses.replace(TINY, num_training_steps=20), dataset, tmp_path / "run")


def test_a_checkpoint_from_before_the_decay_settings_resumes(tmp_path, dataset):
    train(dataclasses.replace(TINY, num_training_steps=4), dataset, tmp_path / "run")
    state_file = tmp_path / "run/checkpoints/step-00000004/state.json"
    state = json.loads(state_file.read_text())
    for key in ("decay_steps", "decay_rate"):
        del state["train_config"][key]
    state_file.write_text(json.dumps(state))
    assert train(TINY, dataset, tmp_path / "run").name == "step-00000012"


def test_bad_settings_raise(tmp_path, dataset):
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ConfigError, match="decay_rate"):
        TrainConfig(decay_steps=100, decay_rate=0)
    with pytest.raises(ConfigError, match="dropout"):
        TrainConfig(model=dataclasses.replace(PRESETS["tiny"], dropout=1.0))
    with pytest.raises(ConfigError, match="CUDA"):
        train(dataclasses.replace(TINY, precision="fp16"), dataset, tmp_path / "run")


def test_progress_can_stop_training_with_a_checkpoint(tmp_path, dataset):
    seen = []

    def stop_at_first_eval(row):
        seen.append(row)
        return row["split"] == "eval"

    last = train(dataclasses.replace(TINY, checkpoint_every=100), dataset, tmp_path / "run",
                 progress=stop_at_first_eval)  # fmt: skip
    assert last.name == "step-00000006"
    assert seen[-1]["split"] == "eval"
    assert seen[-1]["train_sec"] <= seen[-1]["wall_sec"]
    assert all(r["events"] > 0 for r in seen if r["split"] == "train")
