"""The HTTP side of a connector's local fake: a loopback server that hands each request over.

A fake (``youtube/tests/fake.py``, ``google_business/…``, ``tiktok/…``,
``pinterest/…``) keeps the network's state and answers in :meth:`FakeAPI.respond`:
its faults, routes and error envelopes stay its own. This module only reads the
request, writes the answer (JSON, or raw bytes) and runs the server on a free
loopback port in a thread until :meth:`LoopbackServer.stop`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

JSON = "application/json; charset=UTF-8"


@dataclass
class Response:
    """An answer: JSON for a dict or list body, the bytes as they are, nothing for None."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    verb: str
    path: str
    raw_query: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The query string, the first value of each name."""
        return {k: v[0] for k, v in parse_qs(self.raw_query).items()}

    @property
    def query_lists(self) -> dict[str, list[str]]:
        """The query string with every value of each name."""
        return parse_qs(self.raw_query)


class FakeAPI(Protocol):
    def respond(self, request: Request) -> Response | None:
        """The answer, or None to close the connection without one (a lost answer)."""
        ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _serve(self, verb: str) -> None:
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.fake.respond(Request(verb, parts.path, parts.query, headers, body))
        if response is None:
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        if isinstance(response.body, bytes):
            payload, content_type = response.body, self.server.bytes_type
        elif response.body is None:
            payload, content_type = b"", ""
        else:
            payload, content_type = json.dumps(response.body).encode(), self.server.json_type
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAPI, bytes_type: str, json_type: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.bytes_type = bytes_type
        self.json_type = json_type


class LoopbackServer[F: FakeAPI]:
    """``fake`` served on a free loopback port, in a thread; :meth:`stop` ends it."""

    def __init__(self, fake: F, *, bytes_type: str = "text/plain", json_type: str = JSON) -> None:
        self.fake = fake
        self._server = _Server(fake, bytes_type, json_type)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
