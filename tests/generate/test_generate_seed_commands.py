"""The seed's three Magenta commands, verbatim with `chipline` in place of the tool name."""

from __future__ import annotations

import shutil

import pytest

from chipline.cli import cli
from chipline.encoding import polyphony as poly
from chipline.encoding.polyphony_grammar import grammar_error
from chipline.score import quantize, read_midi
from conftest import shared_data

pytest.importorskip("torch")

BACH = ("bwv281.mid", "bwv286.mid", "bwv324.mid")  # three short chorales keep training quick


@pytest.mark.slow
def test_create_dataset_train_generate_verbatim(runner, tmp_path):
    midi = tmp_path / "nintendo_midi"
    midi.mkdir()
    for name in BACH:
        shutil.copy(shared_data("midi", "bach-magenta", name), midi)
    examples = tmp_path / "polyphony_rnn" / "sequence_examples"
    run3 = tmp_path / "polyphony_rnn" / "logdir" / "run3"
    generated = tmp_path / "polyphony_rnn" / "generated"
    hparams = "--hparams=batch_size=64,rnn_layer_sizes=[128,128,128]"
    commands = [
        ["ingest", f"--input={midi}", f"--output_dir={examples}", "--eval_ratio=0.10"],
        ["train", f"--run_dir={run3}",
         f"--sequence_example_file={examples / 'training_poly_tracks.tfrecord'}", hparams,
         "--num_training_steps=2"],
        ["generate", f"--run_dir={run3}", hparams, f"--output_dir={generated}",
         "--num_outputs=10", "--num_steps=128", "--primer_melody=[20]",
         "--condition_on_primer=true", "--inject_primer_during_generation=false"],
    ]  # fmt: skip
    for args in commands:
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, f"{args[0]}: {result.output}"
    files = sorted(generated.glob("*.mid"))
    assert len(files) == 10
    for f in files:
        song = quantize(read_midi(f))
        tokens = poly.encode(song, num_steps=128)
        assert grammar_error(tokens) is None
        assert tokens[:3].tolist() == [poly.START, poly.new_note(20), poly.STEP_END]
