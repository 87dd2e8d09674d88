"""`chipline generate`: Magenta's command verbatim, numpy only, clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_generate import tiny_model

from chipline.cli import cli
from chipline.score import read_midi
from conftest import shared_data

SEED_FLAGS = [
    "--num_outputs=10",
    "--num_steps=128",
    "--primer_melody=[20]",
    "--condition_on_primer=true",
    "--inject_primer_during_generation=false",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    tiny_model(run / "checkpoints" / "step-00000005", seed=1)
    tiny_model(run / "checkpoints" / "step-00000010", layer_sizes=(16, 16, 16))
    return run


def test_seeds_generate_command_works_verbatim(runner, run_dir, tmp_path):
    out = tmp_path / "generated"
    hparams = "--hparams=batch_size=64,rnn_layer_sizes=[16,16,16]"
    args = ["generate", f"--run_dir={run_dir}", hparams, f"--output_dir={out}", *SEED_FLAGS]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.mid"))
    assert [f.name[-7:] for f in files] == [f"_{i:02d}.mid" for i in range(1, 11)]
    for f in files:
        song = read_midi(f)
        assert song.duration_sec == pytest.approx(16.0)  # 128 16ths at 120 qpm
        assert min(n.start_tick for n in song.notes) == 0
        assert any(n.pitch == 20 and n.start_tick == 0 for n in song.notes)


def test_generate_imports_neither_torch_nor_the_render_stack(run_dir, tmp_path):
    code = (
        "import sys\n"
        "from chipline.cli import main\n"
        f"sys.argv = ['chipline', 'generate', '--run-dir', {str(run_dir)!r}, '--output-dir', "
        f"{str(tmp_path)!r}, '--num-outputs', '2', '--bars', '2', '--seed', '1']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted({'torch', 'scipy', 'chipline.render'} & set(sys.modules)))\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src},
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # no torch, nor the render stack
    assert len(list(tmp_path.glob("*.mid"))) == 2


def _corrupt(path: Path) -> Path:
    (path / "model.safetensors").write_bytes(b"\x00" * 40)
    return path


def _other_codec(path: Path) -> Path:
    config = json.loads((path / "config.json").read_text())
    config["codec_version"] = 2
    (path / "config.json").write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ([], 2, "no model"),
        (["--model", "M", "--run_dir", "R"], 2, "give only one"),
        (["--model", "M", "--primer_melody=[60]", "--primer_pitches=[60]"], 2, "give only one"),
        (["--model", "M", "--num_steps=64", "--bars=4"], 2, "give only one"),
        (["--model", "M", "--primer_melody=[130]"], 2, "outside 0..127"),
        (["--model", "M", "--primer_pitches=[60, -5]"], 2, "outside the MIDI pitches"),
        (["--model", "M", "--condition_on_primer=maybe"], 2, "maybe"),
        (["--model", "M", "--beam_size=0"], 1, "beam_size"),
        (["--model", "M", "--num_steps=2", "--primer_pitches=[60]"], 1, "raise --num-steps"),
        (["--model", "M", "--hparams=rnn_layer_sizes=[64,64]"], 1, "rnn_layer_sizes"),
        (["--model", "nowhere"], 1, "no such model"),
        (["--model", "CORRUPT"], 1, "corrupt weights"),
        (["--model", "OTHER"], 1, "encoding version 2"),
    ],
)
def test_bad_input_gets_a_clear_error(runner, tmp_path, extra, code, message):
    models = {
        "M": tiny_model(tmp_path / "m"),
        "CORRUPT": _corrupt(tiny_model(tmp_path / "c")),
        "OTHER": _other_codec(tiny_model(tmp_path / "o")),
    }
    args = ["generate", "--output_dir", str(tmp_path / "out")]
    args += [str(models.get(a, a)) for a in extra]
    result = runner.invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("flag", "name"), [("--bundle_file", "polyphony_128x3.mag"), ("--run_dir", "run_dir")]
)
def test_generates_from_a_real_magenta_model(runner, tmp_path, flag, name):
    """The fixture's own sanity command, run on Magenta's bundle and its run dir."""
    source = shared_data("magenta-fixture", name)
    args = [f"{flag}={source}", f"--output_dir={tmp_path}", "--num_outputs=1", "--num_steps=32"]
    hparams = "--hparams=batch_size=64,rnn_layer_sizes=[128,128,128]"
    result = runner.invoke(cli, ["generate", *args, "--primer_pitches=[60,64,67]", hparams])
    assert result.exit_code == 0, result.output
    (out,) = tmp_path.glob("*.mid")
    song = read_midi(out)
    assert {n.pitch for n in song.notes if n.start_tick == 0} >= {60, 64, 67}
    assert song.duration_sec == pytest.approx(4.0)


def test_magenta_boolean_flags_work_bare_too(runner, tmp_path):
    model = tiny_model(tmp_path / "m")
    args = ["generate", "--model", str(model), "--output_dir", str(tmp_path / "out"),
            "--condition_on_primer", "--num_outputs=2", "--bars=1", "--primer_pitches=[60]",
            "--inject_primer_during_generation"]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name[-6:] for p in (tmp_path / "out").iterdir()) == ["_1.mid", "_2.mid"]


def test_the_pitch_temperature_changes_the_pitches(runner, run_dir, tmp_path):
    def pitches(*extra: str) -> list[list[int]]:
        out = tmp_path / "-".join(extra or ("plain",))
        args = ["generate", "--run-dir", str(run_dir), "--output-dir", str(out),
                "--num-outputs", "3", "--bars", "2", "--seed", "4", *extra]  # fmt: skip
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        return [[n.pitch for n in read_midi(f).notes] for f in sorted(out.glob("*.mid"))]

    assert pitches() == pitches("--pitch-temperature", "1.0")  # the same as --temperature
    assert pitches() != pitches("--pitch-temperature", "0.05")
    refused = runner.invoke(cli, ["generate", "--run-dir", str(run_dir), "--output-dir",
                                  str(tmp_path / "no"), "--pitch-temperature", "0"])  # fmt: skip
    assert refused.exit_code != 0
    assert "pitch_temperature" in refused.output
