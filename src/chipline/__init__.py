"""chipline: an assembly line for game music (MIDI in, loopable chiptune audio out)."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
