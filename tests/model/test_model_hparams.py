"""Magenta's --hparams strings."""

from __future__ import annotations

import pytest

from chipline.errors import ConfigError
from chipline.model.hparams import parse_hparams


def test_seed_hparams_parse():
    got = parse_hparams("batch_size=64,rnn_layer_sizes=[128,128,128]")
    assert got == {"batch_size": 64, "model": {"layer_sizes": [128, 128, 128]}}


def test_keep_prob_becomes_drop_probability_and_fixed_keys_pass():
    got = parse_hparams("dropout_keep_prob=0.75, clip_norm=3, attn_length=0,use_cudnn=false")
    assert got == {"model": {"dropout": 0.25}, "clip_norm": 3.0}


def test_magentas_first_polyphony_config_decays_the_learning_rate():
    got = parse_hparams("initial_learning_rate=0.001,decay_steps=1000,decay_rate=0.95")
    assert got == {"learning_rate": 0.001, "decay_steps": 1000, "decay_rate": 0.95}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("batch_sise=64", "unknown key 'batch_sise'; valid keys are: attn_length, batch_size"),
        ("attn_length=40", "attn_length=40 is not supported"),
        ("batch_size", "not key=value"),
        ("rnn_layer_sizes=[128,", "cannot read"),
        ("rnn_layer_sizes=128", "bad value"),
    ],
)
def test_bad_hparams_raise(text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        parse_hparams(text)
