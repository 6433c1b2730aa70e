"""Google's OAuth endpoints as the YouTube and Google Business Profile fakes serve them.

``POST /token`` (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
and #offline) and ``POST /revoke`` (#tokenrevoke), with OAuth's error body
``{"error": ..., "error_description": ...}``. A fake mixes :class:`GoogleTokens`
in and keeps the state it reads: ``lock``, ``clients`` (id → secret), ``codes``,
``users`` (by e-mail), ``access`` and ``refresh_tokens`` (token → grant),
``revocations``, and ``issue_token(user, scopes)``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from typing import Any

from minbar.connectors.testing.fake_http import Response

TOKEN_SECONDS = 3599


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class GoogleTokens:
    """The token and revocation endpoints over the fake's accounts and grants."""

    lock: threading.RLock
    clients: dict[str, str]
    codes: dict[str, dict[str, Any]]
    users: dict[str, Any]
    access: dict[str, dict[str, Any]]
    refresh_tokens: dict[str, dict[str, Any]]
    revocations: list[str]
    issue_token: Callable[..., str]  # (user, scopes) → a new access token

    def revoke(self, form: dict[str, str]) -> Response:
        """POST /revoke (https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke).

        The token comes as a form (or query) parameter; revoking an access token also
        revokes its refresh token, and the other way round: the app's access ends.
        200 when revoked; 400 ``invalid_token`` for a token Google does not know.
        """
        token = form.get("token", "")
        with self.lock:
            grant = self.access.get(token) or self.refresh_tokens.get(token)
            if grant is None or grant.get("revoked"):
                raise OAuthError(400, "invalid_token", "Token expired or revoked")
            user = grant["user"]
            for info in self.refresh_tokens.values():
                if info["user"] == user:
                    info["revoked"] = True
            for access in [t for t, info in self.access.items() if info["user"] == user]:
                del self.access[access]
            self.revocations.append(token)
        return Response(200, {})

    def token(self, form: dict[str, str]) -> Response:
        """POST /token (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code)."""
        client_id = form.get("client_id", "")
        if self.clients.get(client_id) != form.get("client_secret") or not client_id:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["client_id"] != client_id:
                raise OAuthError(400, "invalid_grant", "Malformed auth code.")
            if code["redirect_uri"] != form.get("redirect_uri"):
                raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
            verifier = form.get("code_verifier", "")
            if code["challenge"] and s256(verifier) != code["challenge"]:
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
            if verifier and not code["challenge"]:
                raise OAuthError(400, "invalid_grant", "code_verifier or verifier is not needed.")
            user = self.users[code["user"]]
            body: dict[str, Any] = {
                "access_token": self.issue_token(user, tuple(code["scopes"])),
                "expires_in": TOKEN_SECONDS,
                "scope": " ".join(code["scopes"]),
                "token_type": "Bearer",
            }
            if code["consent"]:  # a refresh token comes with the consent screen
                refresh = "1//0g" + secrets.token_urlsafe(32)
                self.refresh_tokens[refresh] = {
                    "user": user.email,
                    "scopes": code["scopes"],
                    "client_id": client_id,
                    "revoked": False,
                }
                body["refresh_token"] = refresh
            return Response(200, body)
        if grant == "refresh_token":
            info = self.refresh_tokens.get(form.get("refresh_token", ""))
            if info is None or info["revoked"] or info["client_id"] != client_id:
                raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
            user = self.users[info["user"]]
            return Response(
                200,
                {
                    "access_token": self.issue_token(user, tuple(info["scopes"])),
                    "expires_in": TOKEN_SECONDS,
                    "scope": " ".join(info["scopes"]),
                    "token_type": "Bearer",
                },
            )
        raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + str(grant))
