"""Sampling and beam search: valid outputs of the asked length, primers, injection, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_generate import tiny_model

from chipline.encoding import polyphony as poly
from chipline.encoding.polyphony_grammar import grammar_error
from chipline.errors import ConfigError
from chipline.generate import SampleConfig, load_generator, output_paths, sample_songs
from chipline.generate.primer import Primer, from_melody, from_pitches
from chipline.generate.sampler import Search, generate_tokens
from chipline.score import quantize


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_generator(tiny_model(tmp_path_factory.mktemp("m") / "model"))


def _steps(tokens):
    return int((np.asarray(tokens) == poly.STEP_END).sum())


@pytest.mark.parametrize(
    "search",
    [
        Search(),
        Search(temperature=0.5),
        Search(temperature=0.9, pitch_temperature=0.5),
        Search(beam_size=3, branch_factor=2, steps_per_iteration=4),
    ],
)
def test_every_output_is_grammatical_and_exactly_as_long_as_asked(model, search):
    rng = np.random.default_rng(0)
    prefix = np.array([poly.START], np.uint16)
    outputs = generate_tokens(model, prefix, 24, 5, search, rng)
    assert len(outputs) == 5
    for tokens in outputs:
        assert grammar_error(tokens, strict=True) is None
        assert _steps(tokens) == 24


def test_the_pitch_temperature_sharpens_the_choice_of_pitch_but_not_of_when():
    from chipline.generate.sampler import _retemper_pitches

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (3, poly.VOCAB_SIZE)).astype(np.float32)
    allowed = rng.random((3, poly.VOCAB_SIZE)) < 0.5
    allowed[:, poly.STEP_END] = True
    allowed[2, poly.NEW_NOTE_BASE : poly.CONTINUED_NOTE_BASE] = False  # no attack possible here
    new = slice(poly.NEW_NOTE_BASE, poly.CONTINUED_NOTE_BASE)

    def probs(z):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    z = np.where(allowed, logits / np.float32(0.9), -np.inf)
    plain, sharp = probs(z), probs(_retemper_pitches(z, logits, allowed, 0.3))
    assert np.allclose(sharp[:, new].sum(axis=1), plain[:, new].sum(axis=1))  # P(an attack)
    others = np.ones(poly.VOCAB_SIZE, bool)
    others[new] = False
    assert np.allclose(sharp[:, others], plain[:, others])
    a, b = np.flatnonzero(allowed[0, new])[:2] + poly.NEW_NOTE_BASE
    ratio = np.log(sharp[0, a] / sharp[0, b])
    assert ratio == pytest.approx((logits[0, a] - logits[0, b]) / 0.3, rel=1e-4)
    assert np.allclose(sharp[2], plain[2])
    assert np.allclose(probs(_retemper_pitches(z, logits, allowed, 0.9)), plain, atol=1e-6)


def test_seed_repeats_and_other_seeds_differ(model):
    primer = from_melody("[60]")
    runs = [
        sample_songs(model, SampleConfig(num_outputs=3, num_steps=32, seed=s), primer)
        for s in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert runs[0][0] != runs[0][1]  # outputs of one batch differ from each other


def test_conditioned_output_starts_with_the_primer(model):
    primer = from_pitches("[67, 64, 60]")
    cfg = SampleConfig(num_outputs=2, num_steps=20, condition_on_primer=True,
                       inject_primer_during_generation=False, seed=1)  # fmt: skip
    for song in sample_songs(model, cfg, primer):
        tokens = poly.encode(quantize(song), num_steps=20)
        assert tokens[: primer.tokens().size].tolist() == primer.tokens().tolist()
        assert song.end_tick == 20 * 55


def test_unconditioned_output_holds_the_primer_then_injects_it(model):
    primer = from_melody("[72, -2, 74, -1]")  # 72 for two steps, 74 for one
    cfg = SampleConfig(num_outputs=2, num_steps=16, seed=3)  # Magenta's defaults: inject
    for song in sample_songs(model, cfg, primer):
        notes = {(n.start_tick // 55, n.pitch) for n in song.notes}
        assert {(0, 72), (2, 74)} <= notes  # the primer itself
        assert {(3, 72), (5, 74)} <= notes  # injected where generation starts (step 3)


def test_beam_search_keeps_the_most_likely_of_its_branches(model):
    prefix = np.array([poly.START], np.uint16)
    sampled = generate_tokens(
        model, prefix, 8, 1, Search(temperature=1.0), np.random.default_rng(0)
    )
    beam = generate_tokens(
        model, prefix, 8, 1, Search(beam_size=8, branch_factor=4), np.random.default_rng(0)
    )

    def loglik(tokens):
        logits = model.forward(tokens[None, :-2].astype(np.int64))[0].astype(np.float64)
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return logp[np.arange(tokens.size - 2), tokens[1:-1]].sum()

    assert loglik(beam[0]) > loglik(sampled[0])


def test_primer_longer_than_the_piece_is_refused(model):
    with pytest.raises(ConfigError, match="raise --num-steps"):
        sample_songs(model, SampleConfig(num_steps=4), from_melody("[60, -2, -2, -2, 62]"))


def test_config_refuses_nonsense():
    with pytest.raises(ConfigError, match="beam_size"):
        SampleConfig(beam_size=0)
    with pytest.raises(ConfigError, match="temperature"):
        SampleConfig(temperature=0.0)
    with pytest.raises(ConfigError, match="pitch_temperature"):
        SampleConfig(pitch_temperature=-0.5)


def test_melody_and_pitch_primers_follow_magenta():
    melody = from_melody("[60, -2, -2, 62, -1, -2, 64]")
    assert melody.notes == ((0, 3, 60), (3, 4, 62), (6, 7, 64))
    assert from_pitches("[67,64,60]").notes == ((0, 4, 67), (0, 4, 64), (0, 4, 60))
    assert Primer().num_steps == 0
    for bad in ("[128]", "[-3]", "[60, 'a']", "sixty"):
        with pytest.raises(ConfigError, match="primer-melody"):
            from_melody(bad)
    with pytest.raises(ConfigError, match="0..127"):
        from_pitches("[-1]")


def test_output_names_follow_magenta_and_never_overwrite(tmp_path):
    paths = output_paths(tmp_path, 10, now=0.0)
    assert [p.name[-7:] for p in paths[:2]] == ["_01.mid", "_02.mid"]
    assert paths[-1].name.endswith("_10.mid")
    assert len(paths[0].name) == len("2026-11-25_221049_01.mid")
    paths[3].write_bytes(b"")
    again = output_paths(tmp_path, 10, now=0.0)
    assert again[0].name == paths[0].name.replace("_01.mid", "-2_01.mid")


def test_conditioned_and_injected_primer_is_played_again_after_itself(model):
    """Magenta's inject_start_step is the primer's length when conditioning on it."""
    primer = from_melody("[72, -2, 74]")  # 72 at steps 0-1, 74 at step 2; three steps
    cfg = SampleConfig(num_outputs=2, num_steps=12, condition_on_primer=True, seed=5)
    for song in sample_songs(model, cfg, primer):
        starts = {(n.start_tick // 55, n.pitch) for n in song.notes}
        assert {(0, 72), (2, 74), (3, 72), (5, 74)} <= starts


def test_midi_primer_brings_its_notes_and_tempo(model, tmp_path):
    from chipline.generate.primer import from_midi
    from chipline.score import Note, Song, Tempo, write_midi

    notes = (Note(0, 480, 60), Note(0, 480, 64), Note(480, 960, 67), Note(0, 960, 36, channel=9))
    write_midi(Song(480, notes, tempos=(Tempo(0, 600_000),), end_tick=960), tmp_path / "p.mid")
    primer = from_midi(tmp_path / "p.mid")
    assert primer.notes == ((0, 4, 60), (0, 4, 64), (4, 8, 67))  # drums left out
    assert primer.qpm == pytest.approx(100.0)
    (song,) = sample_songs(model, SampleConfig(num_outputs=1, num_steps=16, seed=0), primer)
    assert song.qpm == pytest.approx(100.0, abs=0.01)
    assert {(0, 60), (0, 64), (4, 67)} <= {(n.start_tick // 55, n.pitch) for n in song.notes}
