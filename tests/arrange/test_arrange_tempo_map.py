"""Seconds ⇄ ticks under a tempo map, as the arranger times frames and drum lengths."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chipline.arrange.arranger import TempoMap
from chipline.score import Tempo, ticks_to_sec

tempo_maps = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(100_000, 2_000_000)), max_size=5
).map(
    lambda changes: (
        (Tempo(0, 500_000),) + tuple(Tempo(t, us) for t, us in sorted(dict(changes).items()))
    )
)


@given(tempo_maps, st.sampled_from([24, 96, 480]), st.lists(st.integers(0, 20_000), min_size=1))
def test_tempo_map_agrees_with_score_and_inverts(
    tempos: tuple[Tempo, ...], ticks_per_beat: int, ticks: list[int]
) -> None:
    tempo_map = TempoMap.of(tempos, ticks_per_beat)
    secs = tempo_map.to_sec(ticks)
    np.testing.assert_allclose(secs, ticks_to_sec(ticks, tempos, ticks_per_beat), atol=1e-9)
    assert tempo_map.to_tick(secs).tolist() == ticks
    assert [tempo_map.tick_at(tempo_map.sec_at(t)) for t in ticks] == ticks
    assert [tempo_map.sec_at(t) for t in ticks] == secs.tolist()
