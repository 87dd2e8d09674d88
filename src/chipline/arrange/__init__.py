"""Arranging a polyphonic song for a chip's monophonic voices, and the arranged MIDI.

`arrange` turns a `Song` into a `ChipScore` (melody on Pulse 1, bass on the triangle, inner
voices or an arpeggio on Pulse 2 and the VRC6 voices, drums on the noise); `to_song`/`from_song`
convert a score to and from the arranged MIDI, whose conventions `chipline.arrange.midi`
documents.
"""

from chipline.arrange.arranger import ArrangeConfig, arrange, loop_end_tick
from chipline.arrange.fold import fold
from chipline.arrange.midi import from_song, to_song, write_arranged_midi
from chipline.arrange.preset import Preset, VoicePreset, load_preset

__all__ = [
    "ArrangeConfig",
    "Preset",
    "VoicePreset",
    "arrange",
    "fold",
    "from_song",
    "load_preset",
    "loop_end_tick",
    "to_song",
    "write_arranged_midi",
]
