"""Helpers shared by the sandbox's tests and the sandbox connector's tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from minbar.connectors.sandbox import SandboxConnector
from minbar.connectors.types import Credentials
from minbar.sandbox import actions, clock

API = "/sandbox/api/v1"


class Api:
    """A sandbox account's API through Django's test client."""

    def __init__(self, token: str = "") -> None:
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self._headers())

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> Any:
        return self.client.generic(
            method,
            API + path,
            data=json.dumps(body or {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.send("POST", path, body, **headers)

    def connect(self, **body: Any) -> dict[str, Any]:
        response = self.post("/connect", {"speed": 0, **body})
        assert response.status_code == 201, response.content
        data = response.json()
        self.token = data["access_token"]
        return data


def new_account(**options: Any) -> actions.NewAccount:
    """A sandbox account whose clock is stopped (tests move it with ``advance``)."""
    return actions.create_account(
        **{"flavour": "facebook", "name": "Oasis Coffee", "seed": 7, "speed": 0, **options}
    )


class InProcessApp:
    """Django's WSGI app for in-process requests inside a test's transaction.

    Like Django's test client, it keeps the start and end of a request from closing the
    database connection (which would end the test's transaction on PostgreSQL).
    """

    # Requests nest (the sandbox calling back into Minbar while answering Minbar):
    # only the outermost one may reconnect the signals, or the outer request's end
    # would close the test's connection.
    depth = 0

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if InProcessApp.depth == 0:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        InProcessApp.depth += 1
        try:
            result = self.handler(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                result.close()
        finally:
            InProcessApp.depth -= 1
            if InProcessApp.depth == 0:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)


def route_sandbox_in_process(monkeypatch: Any) -> None:
    """Every SandboxConnector made from now on (in this test) talks to Django in process."""
    monkeypatch.setattr(
        SandboxConnector, "default_transport", lambda: httpx.WSGITransport(app=InProcessApp())
    )


def wsgi_connector(credentials: Credentials | None = None, **options: Any) -> SandboxConnector:
    """A connector whose HTTP goes straight into Django's WSGI app (no sockets)."""
    return SandboxConnector(
        "", credentials, transport=httpx.WSGITransport(app=InProcessApp()), **options
    )


class Clock:
    """Moves the sandbox's idea of real time forward (``monkeypatch`` it in)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def pass_time(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def install_clock(monkeypatch: Any) -> Clock:
    fake = Clock(clock.now())
    monkeypatch.setattr(clock, "now", fake)
    return fake
