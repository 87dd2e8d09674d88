"""`chipline train` and `chipline import-magenta` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers_model import write_dataset

import chipline
from chipline.cli import cli
from conftest import shared_data

pytest.importorskip("torch")

FAST = ["--window", "24", "--num-threads", "1", "--device", "cpu", "--eval-every", "0"]


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "sequence_examples")


def test_seed_command_runs_verbatim(runner, tmp_path, dataset):
    args = [
        "train",
        f"--run_dir={tmp_path / 'logdir' / 'run3'}",
        f"--sequence_example_file={dataset / 'training_poly_tracks.tfrecord'}",
        "--hparams=batch_size=64,rnn_layer_sizes=[128,128,128]",
        "--num_training_steps=2",
        "--num-threads=1",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Trained 2 steps" in result.output
    state = json.loads(
        next((tmp_path / "logdir/run3/checkpoints").glob("*/state.json")).read_text()
    )
    assert state["train_config"]["batch_size"] == 64
    assert state["train_config"]["model"]["layer_sizes"] == [128, 128, 128]
    assert state["train_config"]["model"]["dropout"] == 0.5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hparams", "batch_size=64", "--batch-size", "32"], "--hparams sets batch_size=64"),
        (["--hparams", "rnn_layer_size=[8]"], "unknown key 'rnn_layer_size'"),
        (["--layer-sizes", "8,x"], "--layer-sizes"),
        (["--dropout", "1.5"], "dropout must be in"),
    ],
)
def test_contradictory_or_bad_flags_fail_clearly(runner, tmp_path, dataset, extra, message):
    args = ["train", "--dataset", str(dataset), "--run-dir", str(tmp_path / "run"), *extra]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.output


def test_dataset_flags_must_agree(runner, tmp_path, dataset):
    other = tmp_path / "elsewhere" / "training_poly_tracks.tfrecord"
    args = ["train", "--dataset", str(dataset), "--sequence_example_file", str(other),
            "--run-dir", str(tmp_path / "run")]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "disagree" in result.output


def test_corrupt_dataset_fails_clearly(runner, tmp_path, dataset):
    (dataset / "training_poly_tracks.npz").write_bytes(b"PK\x03\x04 broken")
    args = ["train", "--dataset", str(dataset), "--run-dir", str(tmp_path / "run"), *FAST]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "training_poly_tracks.npz" in result.output
    assert "chipline ingest" in result.output


def test_resume_with_other_layer_sizes_is_refused(runner, tmp_path, dataset):
    base = ["train", "--dataset", str(dataset), "--run-dir", str(tmp_path / "run"), *FAST]
    assert (
        runner.invoke(cli, [*base, "--preset", "tiny", "--num-training-steps", "1"]).exit_code == 0
    )
    result = runner.invoke(cli, [*base, "--layer-sizes", "32", "--num-training-steps", "2"])
    assert result.exit_code == 1
    assert "start a new --run-dir" in result.output


def test_resume_on_another_dataset_is_refused(runner, tmp_path, dataset):
    run = tmp_path / "run"
    base = ["train", "--run-dir", str(run), "--preset", "tiny", *FAST]
    assert (
        runner.invoke(
            cli, [*base, "--dataset", str(dataset), "--num-training-steps", "1"]
        ).exit_code
        == 0
    )
    other = write_dataset(tmp_path / "other", num_train=30, seed=1)
    result = runner.invoke(cli, [*base, "--dataset", str(other), "--num-training-steps", "2"])
    assert result.exit_code == 1
    assert "trained on another dataset" in result.output
    assert "start a new --run-dir" in result.output
    again = runner.invoke(cli, [*base, "--dataset", str(dataset), "--num-training-steps", "2"])
    assert again.exit_code == 0, again.output


@pytest.mark.slow
def test_sigint_leaves_a_checkpoint_that_resumes_exactly(runner, tmp_path, dataset):
    from chipline.config import from_mapping
    from chipline.model.checkpoint import load_model
    from chipline.model.train import TrainConfig, train

    run = tmp_path / "run"
    args = [sys.executable, "-m", "chipline", "train", "--dataset", str(dataset), "--run-dir",
            str(run), "--preset", "tiny", "--batch-size", "4", "--num-training-steps", "100000",
            "--checkpoint-every", "100000", "--summary-frequency", "5", *FAST]  # fmt: skip
    # faulthandler: SIGABRT makes a stuck child print every thread's stack
    env = {**os.environ, "PYTHONPATH": str(Path(chipline.__file__).parents[1]),
           "PYTHONFAULTHANDLER": "1"}  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (run / "metrics.jsonl").is_file() or not (run / "metrics.jsonl").read_text():
            assert time.monotonic() < deadline
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        try:
            output = proc.communicate(timeout=120)[0].decode()
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            stuck = proc.communicate(timeout=30)[0].decode(errors="replace")
            pytest.fail(f"still running 120 s after SIGINT; its output and stacks:\n{stuck}")
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, output
    assert "run the same command to resume" in output
    stopped = json.loads(next((run / "checkpoints").glob("*/state.json")).read_text())
    step = stopped["position"]["step"]
    assert step >= 5
    resume = [str(step + 3) if a == "100000" else a for a in args[3:]]
    resume[resume.index("--checkpoint-every") + 1] = "100000"
    result = runner.invoke(cli, resume)
    assert result.exit_code == 0, result.output
    straight = from_mapping(
        TrainConfig, {**stopped["train_config"], "num_training_steps": step + 3}
    )
    train(straight, dataset, tmp_path / "straight")
    _, want = load_model(tmp_path / "straight")
    _, got = load_model(run)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_import_magenta_command(runner, tmp_path):
    source = shared_data("magenta-fixture", "polyphony_128x3.mag")
    result = runner.invoke(cli, ["import-magenta", str(source), "-o", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "[128, 128, 128]" in result.output
    assert (tmp_path / "m" / "model.safetensors").is_file()
    bad = runner.invoke(cli, ["import-magenta", str(tmp_path), "-o", str(tmp_path / "n")])
    assert bad.exit_code == 1
    assert "no Magenta checkpoint" in bad.output


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_data_parallel(tmp_path, dataset):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
            "-m", "chipline", "train", "--dataset", str(dataset), "--run-dir", str(run),
            "--preset", "tiny", "--batch-size", "4", "--num-training-steps", "6",
            "--checkpoint-every", "3", "--summary-frequency", "1", *FAST]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(chipline.__file__).parents[1])}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if r["split"] == "train"]
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6]  # one writer: rank 0
    assert [r["step"] for r in rows if r["split"] == "eval"] == [6]
    steps = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert steps == ["step-00000003", "step-00000006"]


def test_toml_config_sets_the_run_and_rejects_unknown_keys(runner, tmp_path, dataset):
    toml = tmp_path / "train.toml"
    toml.write_text("[train]\nbatch_size = 4\nwindow = 16\n[train.model]\nlayer_sizes = [12]\n")
    base = ["train", "--dataset", str(dataset), "--config", str(toml), "--num-training-steps",
            "1", "--num-threads", "1", "--device", "cpu"]  # fmt: skip
    result = runner.invoke(cli, [*base, "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    state = json.loads(next((tmp_path / "run/checkpoints").glob("*/state.json")).read_text())
    assert state["train_config"]["batch_size"] == 4
    assert state["train_config"]["model"]["layer_sizes"] == [12]
    toml.write_text("[train]\nbatch_sise = 4\n")
    bad = runner.invoke(cli, [*base, "--run-dir", str(tmp_path / "run2")])
    assert bad.exit_code == 1
    assert "unknown key 'batch_sise'" in bad.output
