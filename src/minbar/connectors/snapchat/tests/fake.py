"""A stateful local stand-in for Snap's Login Kit: OAuth 2.0 and ``/v1/me``.

* ``GET /accounts/oauth2/auth`` (the consent page; :meth:`FakeSnap.approve` plays
  the person) and ``POST /accounts/oauth2/token`` — the authorization code and
  refresh token grants of https://developers.snap.com/snap-kit/login-kit/overview,
  with the client authenticated by HTTP Basic credentials (RFC 6749 §2.3.1), the
  PKCE S256 challenge checked, and RFC 6749 error bodies;
* ``GET /v1/me?query={me{...}}`` — the user data Snap's passport-snapchat strategy
  reads (https://github.com/Snapchat/passport-snapchat, ``test/fixtures/me.json``):
  ``{"data": {"me": {"displayName", "bitmoji": {"avatar", "id"}, "externalId"}}}``,
  each field only when its scope was granted
  (https://developers.snap.com/snap-kit/login-kit/Tutorials/web lists the scopes;
  the Bitmoji one can be unticked).

Snap publishes no error body for ``/v1/me``; the fake answers a bad token with a
bare 401, which is all the connector relies on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "https://auth.snapchat.com/oauth2/api/"
DISPLAY_NAME = PREFIX + "user.display_name"
BITMOJI = PREFIX + "user.bitmoji.avatar"
EXTERNAL_ID = PREFIX + "user.external_id"
TOKEN_SECONDS = 3600


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class SnapUser:
    display_name: str
    external_id: str = field(default_factory=lambda: "CAESI" + secrets.token_urlsafe(20))
    bitmoji_id: str = field(default_factory=lambda: secrets.token_hex(8))


class FakeSnap:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, str] = {}
        self.users: dict[str, SnapUser] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []
        self.me_status: int | None = None  # force an answer of /v1/me (429, 500…)

    def register_client(self) -> tuple[str, str]:
        client_id = secrets.token_hex(16)
        secret = secrets.token_urlsafe(24)
        with self.lock:
            self.clients[client_id] = secret
        return client_id, secret

    def add_user(self, name: str = "Acme Snacks") -> SnapUser:
        user = SnapUser(display_name=name)
        with self.lock:
            self.users[user.external_id] = user
        return user

    def approve(
        self, url: str, user: SnapUser, grant: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        parts = urlsplit(url)
        assert parts.path == "/accounts/oauth2/auth", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            assert query["client_id"] in self.clients
            assert query["response_type"] == "code"
            assert query["code_challenge_method"] == "S256"
            scopes = [s for s in query["scope"].split() if grant is None or s in grant]
            code = secrets.token_urlsafe(24)
            self.codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"],
                "scopes": scopes,
                "user": user.external_id,
            }
        return {"code": code, "state": query.get("state", "")}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access.values():
                info["expires"] = datetime.now(UTC) - timedelta(seconds=1)

    def revoke(self, user: SnapUser) -> None:
        with self.lock:
            for info in self.refresh_tokens.values():
                if info["user"] == user.external_id:
                    info["revoked"] = True

    def _issue(self, user_id: str, scopes: list[str], client_id: str) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self.access[access] = {
            "user": user_id,
            "scopes": scopes,
            "expires": datetime.now(UTC) + timedelta(seconds=TOKEN_SECONDS),
        }
        self.refresh_tokens[refresh] = {
            "user": user_id,
            "scopes": scopes,
            "client_id": client_id,
            "revoked": False,
        }
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": " ".join(scopes),
        }

    def token(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        auth = headers.get("authorization", "")
        try:
            client_id, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)
        except ValueError:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            }
        if self.clients.get(client_id) != secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            }
        if form.get("grant_type") == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["client_id"] != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Invalid code"}
            if code["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
            if s256(form.get("code_verifier", "")) != code["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "Invalid code_verifier"}
            return 200, self._issue(code["user"], code["scopes"], client_id)
        if form.get("grant_type") == "refresh_token":
            info = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if info is None or info["revoked"] or info["client_id"] != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}
            return 200, self._issue(info["user"], info["scopes"], client_id)
        return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant"}

    def me(self, headers: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
        if self.me_status is not None:
            return self.me_status, {"error": "forced"}
        auth = headers.get("authorization", "")
        info = self.access.get(auth.removeprefix("Bearer "))
        if info is None or info["expires"] <= datetime.now(UTC):
            return 401, None
        if "{me{" not in query.get("query", ""):
            return 400, {"errors": [{"message": "query is required"}]}
        user = self.users[info["user"]]
        me: dict[str, Any] = {}
        if DISPLAY_NAME in info["scopes"]:
            me["displayName"] = user.display_name
        if BITMOJI in info["scopes"]:
            me["bitmoji"] = {
                "avatar": f"https://render.bitstrips.example/{user.bitmoji_id}.png",
                "id": user.bitmoji_id,
            }
        if EXTERNAL_ID in info["scopes"]:
            me["externalId"] = user.external_id
        return 200, {"data": {"me": me}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self, verb: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with fake.lock:
            fake.log.append((verb, parts.path))
            if verb == "POST" and parts.path == "/accounts/oauth2/token":
                form = {k: v[0] for k, v in parse_qs(body).items()}
                status, answer = fake.token(headers, form)
            elif verb == "GET" and parts.path == "/v1/me":
                status, answer = fake.me(
                    headers, {k: v[0] for k, v in parse_qs(parts.query).items()}
                )
            else:
                status, answer = 404, {"error": "not_found"}
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSnap) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeServer:
    def __init__(self) -> None:
        self.fake = FakeSnap()
        self._server = _Server(self.fake)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
