"""A real HTTP receiver on 127.0.0.1 for delivery tests: records requests, answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    # Answers for the next requests, in order: a status code, or ("sleep", seconds).
    script: list[int | tuple[str, float]] = field(default_factory=list)
    answer_body: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            step = state.script.pop(0) if state.script else 200
            if isinstance(step, tuple):
                time.sleep(step[1])
                step = 200
            try:
                self.send_response(step)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(state.answer_body)))
                self.end_headers()
                self.wfile.write(state.answer_body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/minbar"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
