"""STAND-IN for REAPER as python-reapy sees it, for tests only: not REAPER, it renders no music.

It speaks reapy 0.10's real wire protocol on loopback (research/reaper.md §5.2): REAPER's web
interface (`GET /_/GET/EXTSTATE/reapy/<key>` answered as `EXTSTATE\\treapy\\t<key>\\t<value>\\n`,
and `GET /_/<action>` running the "activate reapy server" action), and reapy's TCP server
(8-byte little-endian length, then UTF-8 JSON; the client's address as greeting; HOLD/RELEASE;
`{"type": "result"|"error", ...}` answers). Raw ReaScript calls are served by a small model of
REAPER with the Python binding's return shapes; like REAPER behind a modal dialog, it refuses
opening a project without `noprompt:` over another one, rendering an empty project, and
rendering over an existing file. "Rendering" writes a marker ramp (never audio for a test to
judge) where the project's render settings point.

Run: `python fake_reapy_server.py LOG MODE`; it prints its web interface port, then serves until
killed. MODE: "normal", "refuse-render" (the render call raises), "stall-on-render" (never
answers it), "never-starts" (the server port is never published: reapy recurses).
Every request frame is appended to LOG as one JSON line.
"""

from __future__ import annotations

import array
import http.server
import json
import socket
import sys
import threading
import time
import wave
from pathlib import Path

import rpp

ACTION_ID = "_RSchiplinestandinactivate0000000000000000"


class Model:
    """The REAPER state the bridge touches: the open project, its tracks, render settings."""

    def __init__(self) -> None:
        self.project: Path | None = None
        self.tracks: list[str] = []
        self.length_sec = 0.0
        self.render: dict[str, str] = {}
        self.tabs = 1

    def open(self, path: str) -> None:
        if not path.startswith("noprompt:") and self.project is not None:
            raise RuntimeError("REAPER would ask to save the current project (modal dialog)")
        self.project = Path(path.removeprefix("noprompt:"))
        root = rpp.loads(self.project.read_text())
        self.tracks = [str(t.find("NAME")[1]) for t in root.findall("TRACK") if t.find("NAME")]
        items = [float(i.find("LENGTH")[1]) for i in root.iter("ITEM")]
        self.length_sec = max(items, default=0.0)
        found = {k: root.find(k) for k in ("RENDER_FILE", "RENDER_PATTERN", "RENDER_FMT")}
        self.render = {k: str(v[1 if k != "RENDER_FMT" else 3]) for k, v in found.items() if v}
        self.tail_sec = int(root.find("RENDER_RANGE")[5]) / 1000 if root.find("RENDER_RANGE") else 0

    def run_render(self) -> None:
        if self.length_sec <= 0:
            raise RuntimeError("Nothing to render! (modal dialog)")
        target = Path(self.render["RENDER_FILE"]) / (self.render["RENDER_PATTERN"] + ".wav")
        if target.exists():
            raise RuntimeError(f"REAPER would ask whether to overwrite {target} (modal dialog)")
        rate = int(self.render["RENDER_FMT"])
        num = round((self.length_sec + self.tail_sec) * rate)
        target.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(target), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(rate)
            f.writeframes(array.array("h", ((i % 1000) * 8 for i in range(num))).tobytes())


class FakeReaper:
    def __init__(self, log: Path, mode: str) -> None:
        self.log, self.mode, self.model = log, mode, Model()
        self.main_thread = threading.Lock()  # REAPER runs every call on its one main thread
        self.server_port: int | None = None
        self.published = False

    def record(self, entry: dict) -> None:
        with open(self.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def call(self, name: str, args: list):
        m = self.model
        if name == "_get_api_names":
            return sorted(API)
        if name == "Main_OnCommand":
            command = args[0]
            if command == 42230:
                if self.mode == "refuse-render":
                    raise RuntimeError("render refused (stand-in mode refuse-render)")
                if self.mode == "stall-on-render":
                    time.sleep(3600)
                m.run_render()
            elif command == 40859:
                m.tabs += 1
            elif command == 40860:
                m.tabs -= 1
            return None
        if name == "Main_openProject":
            return m.open(args[0])
        if name == "EnumProjects":
            return ["(ReaProject*)0x0000600001", args[0], str(m.project), args[2]]
        if name == "GetProjectLength":
            return m.length_sec
        if name == "CountTracks":
            return len(m.tracks)
        if name == "GetTrack":
            return f"(MediaTrack*)0x{0x7000 + args[1]:x}"
        if name == "GetSetMediaTrackInfo_String":
            index = int(args[0].split("0x")[1], 16) - 0x7000
            return [True, args[0], args[1], m.tracks[index], args[3]]
        if name == "GetSetProjectInfo_String":
            if args[3]:
                m.render[args[1]] = args[2]
            return [True, args[0], args[1], m.render.get(args[1], ""), args[3]]
        if name == "GetSetProjectInfo":
            return float(args[2])
        raise AttributeError(f"module 'reaper_python' has no attribute 'RPR_{name}'")


API = {"_get_api_names", "Main_OnCommand", "Main_openProject", "EnumProjects",
       "GetProjectLength", "CountTracks", "GetTrack", "GetSetMediaTrackInfo_String",
       "GetSetProjectInfo_String", "GetSetProjectInfo"}  # fmt: skip


def send(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(len(payload).to_bytes(8, "little") + payload)


def recv(conn: socket.socket) -> bytes | None:
    header = conn.recv(8, socket.MSG_WAITALL)
    if len(header) < 8:
        return None
    return conn.recv(int.from_bytes(header, "little"), socket.MSG_WAITALL)


def serve_client(fake: FakeReaper, conn: socket.socket, address: tuple) -> None:
    send(conn, address[0].encode("ascii"))
    held = False
    while (frame := recv(conn)) is not None:
        request = json.loads(frame)
        fake.record({"frame": frame.decode()})
        function = request["function"]
        if function == "HOLD":
            fake.main_thread.acquire()
            held, answer = True, {"type": "result", "value": None}
        elif function == "RELEASE":
            if held:
                fake.main_thread.release()
            held, answer = False, {"type": "result", "value": None}
        else:
            args = (request.get("input") or {}).get("args", [])
            try:
                if held:
                    value = fake.call(function["name"], args)
                else:
                    with fake.main_thread:
                        value = fake.call(function["name"], args)
                answer = {"type": "result", "value": value}
            except Exception as e:  # noqa: BLE001 - any failure travels back as reapy does it
                answer = {
                    "type": "error",
                    "traceback": f"Traceback (most recent call last):\n{e!r}",
                }
        send(conn, json.dumps(answer).encode())
    if held:
        fake.main_thread.release()


def web_interface(fake: FakeReaper) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's API
            fake.record({"http": self.path})
            prefix = "/_/GET/EXTSTATE/reapy/"
            if self.path.startswith(prefix):
                key = self.path[len(prefix) :]
                value = ""
                if key == "server_port" and fake.published:
                    value = json.dumps(fake.server_port)
                elif key == "activate_reapy_server":
                    value = json.dumps(ACTION_ID)
                body = f"EXTSTATE\treapy\t{key}\t{value}\n"
            elif self.path == f"/_/{ACTION_ID}":
                fake.published = fake.mode != "never-starts"
                body = ""
            else:
                body = ""
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(log: str, mode: str) -> None:
    fake = FakeReaper(Path(log), mode)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    fake.server_port = listener.getsockname()[1]
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), web_interface(fake))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    print(web.server_port, flush=True)
    while True:
        conn, address = listener.accept()
        threading.Thread(target=serve_client, args=(fake, conn, address), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
