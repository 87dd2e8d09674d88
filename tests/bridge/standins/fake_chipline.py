"""STAND-IN for the `chipline` command line, for testing the REAPER "generate" action only.

It records its argv in $FAKE_CHIPLINE_LOG and writes placeholder files where the real commands
would write results: `generate` a file per output named `piece_N.mid` (not MIDI), `render` a
`.wav` and an `.ogg` per input (not audio). Nothing it writes is music.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def main(argv: list[str]) -> int:
    with open(os.environ["FAKE_CHIPLINE_LOG"], "a") as f:
        f.write(json.dumps(argv) + "\n")
    if argv[0] == "generate":
        out = Path(option(argv, "--output-dir"))
        out.mkdir(parents=True, exist_ok=True)
        for n in range(int(option(argv, "--num-outputs"))):
            (out / f"piece_{n + 1}.mid").write_bytes(b"placeholder")
            print(f"wrote {out / f'piece_{n + 1}.mid'}")
        return 0
    if argv[0] == "render":
        out = Path(option(argv, "--out"))
        inputs = [a for a in argv[1 : argv.index("--out")]]
        for path in inputs:
            for ext in (".wav", ".ogg"):
                (out / (Path(path).stem + ext)).write_bytes(b"placeholder")
        print(f"{len(inputs)} rendered")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
