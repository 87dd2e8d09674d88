"""The exception hierarchy: every error chipline raises on purpose is a ChiplineError.

A message says what failed, where (the file), and what to do about it. The CLI turns these into
one line `Error: ...` and exit code 1; anything else is a bug and keeps its traceback.
"""


class ChiplineError(Exception):
    """Base class of every error chipline raises on purpose."""


class ConfigError(ChiplineError):
    """A configuration file, key or value is invalid."""


class MidiFileError(ChiplineError):
    """A MIDI file cannot be read (not MIDI, truncated, empty, over a size cap)."""


class EncodingError(ChiplineError):
    """A token sequence or score cannot be encoded or decoded."""


class DatasetError(ChiplineError):
    """A dataset folder is missing, corrupt, or of another encoding version."""


class ModelError(ChiplineError):
    """A model or checkpoint is missing, corrupt, or incompatible."""


class RenderError(ChiplineError):
    """Audio could not be rendered or written."""


class BridgeError(RenderError):
    """An external renderer (REAPER, reapy) failed, timed out or is missing.

    `transient` is True when trying again may succeed (the renderer rendered nothing).
    """

    def __init__(self, message: str = "", *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self) -> tuple[object, ...]:
        # Keep `transient` when the error crosses a process boundary (the daemon's workers).
        return (type(self), (str(self),), {"transient": self.transient})


class BridgeTimeout(BridgeError):
    """An external renderer did not finish in time; a retry may succeed (transient)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, transient=True)


class DaemonError(ChiplineError):
    """The watch daemon cannot start or run (lock held, inbox missing)."""
