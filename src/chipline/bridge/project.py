"""Build a complete REAPER project (`.rpp`) for one job from the user's template.

The template's voice tracks are found by name; everything in them (FX chain, instrument state,
routing) is copied line for line, their media items are replaced by one in-project MIDI item per
voice, and tempo plus render settings are baked in so `reaper -renderproject` needs nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import rpp

from chipline import atomic
from chipline.bridge import rppchunk
from chipline.bridge.rppchunk import Piece, clean_lines, indent_of, quote, split_children
from chipline.bridge.rppmidi import midi_item_lines, tempo_lines, voice_notes
from chipline.chip import CHIP_VOICES, VOICES, ChipName
from chipline.errors import BridgeError
from chipline.score import Note, Song

RenderFormat = Literal["wav", "mp3"]
EXTENSIONS: dict[str, str] = {"wav": ".wav", "mp3": ".mp3"}
RENDER_KEYS = (
    "RENDER_FILE",
    "RENDER_PATTERN",
    "RENDER_FMT",
    "RENDER_1X",
    "RENDER_RANGE",
    "RENDER_STEMS",
    "RENDER_ADDTOPROJ",
    "RENDER_CFG",
    "RENDER_CFG2",  # a secondary format would make REAPER write a second file
)
# Template lines and chunks we replace, by the group of settings that replaces them.
_SETTING_GROUPS = {key: "render" for key in RENDER_KEYS} | {"TEMPO": "tempo", "TEMPOENVEX": "tempo"}


@dataclass(frozen=True)
class ProjectConfig:
    """How a job's project is built and what REAPER renders from it.

    `track_names` maps a voice (`Pulse 1`) to the template track that plays it; voices not listed
    use a track of their own name. `tail_sec` is rendered after the last note so releases ring.
    """

    output_dir: Path = Path("render")
    output_name: str = "chipline"  # file name without extension (REAPER adds it)
    render_format: RenderFormat = "wav"
    sample_rate: int = 48_000
    num_channels: int = 2
    tail_sec: float = 1.0
    mp3_kbps: int = 128
    mp3_quality: str = "fast"
    track_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.track_names) - set(VOICES))
        if unknown:
            raise BridgeError(
                f"track_names: unknown voice {', '.join(map(repr, unknown))}; "
                f"voices are: {', '.join(VOICES)}"
            )
        if self.mp3_quality not in rppchunk.MP3_QUALITY_CODES:
            raise BridgeError(
                f"mp3_quality {self.mp3_quality!r}: use one of "
                f"{', '.join(rppchunk.MP3_QUALITY_CODES)}"
            )

    def track_for(self, voice: str) -> str:
        return self.track_names.get(voice, voice)

    @property
    def output_path(self) -> Path:
        """The file REAPER will write."""
        return self.output_dir / (self.output_name + EXTENSIONS[self.render_format])

    def render_cfg(self) -> str:
        if self.render_format == "mp3":
            return rppchunk.mp3_render_cfg(self.mp3_kbps, self.mp3_quality)
        return rppchunk.wav_render_cfg()


def parse_project(text: str, where: str) -> rpp.Element:
    """Parse `.rpp` text with the `rpp` library (blank lines dropped, as REAPER never writes any).

    Raises:
        BridgeError: the text is not a REAPER project.
    """
    try:
        root = rpp.loads("\n".join(clean_lines(text)) + "\n")
    except Exception as e:  # noqa: BLE001 - ply raises several types on bad input
        raise BridgeError(f"{where}: not a readable REAPER project ({e})") from e
    if not isinstance(root, rpp.Element) or root.tag != "REAPER_PROJECT":
        raise BridgeError(f"{where}: not a REAPER project (no <REAPER_PROJECT chunk)")
    return root


def template_track_names(root: rpp.Element) -> list[str]:
    """Names of the template's tracks, in order (an unnamed track gives "")."""
    names = []
    for track in root.findall("TRACK"):
        name = track.find("NAME")
        names.append(str(name[1]) if name is not None and len(name) > 1 else "")
    return names


def check_voice_tracks(
    found: list[str], voices: tuple[str, ...], cfg: ProjectConfig, where: str
) -> None:
    """Raise a BridgeError naming expected and found tracks when a voice has no track."""
    missing = [v for v in voices if cfg.track_for(v) not in found]
    if missing:
        expected = ", ".join(repr(cfg.track_for(v)) for v in voices)
        raise BridgeError(
            f"{where}: no track for voice(s) {', '.join(map(repr, missing))}. "
            f"Expected tracks named {expected}; found "
            f"{', '.join(map(repr, found)) or 'no tracks'}. Rename the template's tracks, "
            "or map voices to your track names with track_names in the [reaper] config."
        )


def build_project(template_text: str, song: Song, cfg: ProjectConfig, where: str) -> str:
    """The `.rpp` text for `song` (an arranged MIDI: one track per voice, named by voice).

    Raises:
        BridgeError: the template is unreadable or lacks a track for a voice that has notes.
    """
    root = parse_project(template_text, where)
    notes = voice_notes(song)
    voices = tuple(v for v in VOICES if v in notes)
    check_voice_tracks(template_track_names(root), voices, cfg, where)
    track_to_voice = {cfg.track_for(v): v for v in voices}
    voice_tracks = {cfg.track_for(v) for v in VOICES}  # their items are the job's alone
    header, children, closing = split_children(clean_lines(template_text))
    indent = indent_of(children[0].lines[0]) if children else "  "
    pending = {
        "render": _render_lines(cfg, indent),
        "tempo": tempo_lines(song, indent),
    }
    out = [header]
    seen: set[str] = set()
    for piece in children:
        group = _SETTING_GROUPS.get(piece.key)
        if group is not None:  # our settings replace the template's, where it had them
            out.extend(pending.pop(group, []))
            continue
        if piece.key == "TRACK" and piece.is_chunk:
            for group in list(pending):
                out.extend(pending.pop(group))
            out.extend(_track_lines(piece, song, notes, track_to_voice, seen, voice_tracks))
        else:
            out.extend(piece.lines)
    for group in list(pending):
        out.extend(pending.pop(group))
    out.append(closing)
    return "\n".join(out) + "\n"


def _render_lines(cfg: ProjectConfig, indent: str) -> list[str]:
    tail_ms = round(cfg.tail_sec * 1000)
    inner = indent * 2
    lines = [
        f"RENDER_FILE {quote(str(cfg.output_dir))}",
        f"RENDER_PATTERN {quote(cfg.output_name)}",
        f"RENDER_FMT 0 {cfg.num_channels} {cfg.sample_rate}",
        "RENDER_1X 0",
        # bounds 1 = entire project; tail flags 18 include the entire-project bounds (REAPER's
        # own default line is `RENDER_RANGE 1 0 0 18 1000`).
        f"RENDER_RANGE 1 0 0 18 {tail_ms}",
        "RENDER_STEMS 0",
        "RENDER_ADDTOPROJ 0",
    ]
    out = [indent + line for line in lines]
    return out + [f"{indent}<RENDER_CFG", inner + cfg.render_cfg(), f"{indent}>"]


def _track_lines(
    piece: Piece,
    song: Song,
    notes: Mapping[str, list[Note]],
    track_to_voice: Mapping[str, str],
    seen: set[str],
    voice_tracks: set[str],
) -> list[str]:
    """The track's lines: a voice track's items are replaced by the job's MIDI, others kept."""
    header, children, closing = split_children(piece.lines)
    name = next((_name_value(c.lines[0]) for c in children if c.key == "NAME"), "")
    voice = track_to_voice.get(name) if name not in seen else None
    seen.add(name)
    inner = indent_of(children[0].lines[0]) if children else indent_of(header) + "  "
    lines = [header]
    for child in children:
        if child.key != "ITEM" or name not in voice_tracks:
            lines.extend(child.lines)
    if voice is not None:
        lines.extend(midi_item_lines(song, voice, notes[voice], inner))
    lines.append(closing)
    return lines


def _name_value(line: str) -> str:
    parsed = rpp.loads(f"<X\n{line.strip()}\n>\n")
    row = parsed[0]
    return str(row[1]) if len(row) > 1 else ""


def write_project(
    template: Path, song: Song, cfg: ProjectConfig, out_path: Path
) -> tuple[Path, str]:
    """Build the project from the template file and write it atomically; returns (path, text).

    Raises:
        BridgeError: the template cannot be read, or lacks voice tracks.
    """
    try:
        template_text = template.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise BridgeError(f"{template}: cannot read REAPER template ({e.strerror or e})") from e
    text = build_project(template_text, song, cfg, str(template))
    atomic.write_text(out_path, text, errors="surrogateescape", newline="\n", make_parents=True)
    return out_path, text


def default_voices() -> tuple[str, ...]:
    """The voices every template should have (the NES chip's)."""
    return CHIP_VOICES["nes"]


def default_template() -> Path:
    """The template shipped with chipline: one track per voice, each with our chip-voice JSFX."""
    return Path(__file__).resolve().parents[1] / "templates" / "reaper" / "chipline-nes.RPP"


def is_arranged(song: Song) -> bool:
    """True when every note sits on a track named by a voice."""
    names = song.track_names
    return all(n.track < len(names) and names[n.track] in VOICES for n in song.notes)


def arranged_song(song: Song, chip: ChipName = "nes") -> Song:
    """`song` itself when it is already arranged, else arranged for `chip` by `chipline.arrange`."""
    if is_arranged(song):
        return song
    from chipline.arrange import ArrangeConfig, arrange, to_song

    return to_song(arrange(song, ArrangeConfig(chip=chip)))
