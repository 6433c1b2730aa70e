"""A scriptable connector for testing the channels app without any network."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.utils import timezone

from minbar.connectors.base import AuthField, Connector, OAuthStart
from minbar.connectors.errors import AuthExpired, ConnectorError, Rejected
from minbar.connectors.types import (
    AccountChoice,
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    TextRules,
)


class FakeConnector(Connector):
    network = "fakenet"
    capabilities = Capabilities(
        network="fakenet",
        label="FakeNet",
        auth=AuthKind.APP_PASSWORD,
        text=TextRules(max_length=100),
        needs_server_url=True,
        default_server_url="https://fake.example",
    )
    auth_fields = (
        AuthField("server_url", "Server"),
        AuthField("handle", "Handle"),
        AuthField("password", "App password", secret=True),
    )
    # Tests script the next outcome of verify()/refresh() here.
    next_verify_error: ClassVar[ConnectorError | None] = None
    refresh_result: ClassVar[Credentials | None] = None
    calls: ClassVar[list[str]] = []

    def connect_with_fields(self, fields: dict[str, str]) -> ConnectResult:
        self.calls.append("connect")
        if fields["password"] != "right":
            raise AuthExpired(
                "FakeNet refused the sign-in.", detail="Invalid identifier or password"
            )
        return ConnectResult(
            account=AccountInfo(
                remote_id=f"id-{fields['handle']}",
                handle=fields["handle"],
                display_name=fields["handle"].title(),
            ),
            credentials=Credentials(
                secrets={"access": "ACCESS_SECRET_1", "refresh": "REFRESH_SECRET_1"},
                data={"server": self.server_url},
                expires_at=timezone.now() + timedelta(hours=2),
            ),
        )

    def verify(self) -> AccountInfo:
        self.calls.append("verify")
        error = type(self).next_verify_error
        if error is not None:
            raise error
        return AccountInfo(remote_id="id-x", handle=self.credentials.data.get("handle", "x"))

    def refresh(self) -> Credentials | None:
        self.calls.append("refresh")
        return type(self).refresh_result


class FakeOAuthConnector(Connector):
    network = "fakeoauth"
    capabilities = Capabilities(
        network="fakeoauth",
        label="FakeOAuth",
        auth=AuthKind.OAUTH2,
        text=TextRules(max_length=500),
        needs_server_url=True,
        pkce=True,
    )
    registered: ClassVar[int] = 0

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        if app is None:
            type(self).registered += 1
            app = {"client_id": "cid", "client_secret": "csecret"}
            new_app: dict[str, str] | None = app
        else:
            new_app = None
        return OAuthStart(
            url=f"{self.server_url}/oauth/authorize?state={state}"
            f"&redirect_uri={redirect_uri}&client_id={app['client_id']}",
            state=state,
            code_verifier="verifier-123",
            app=new_app,
        )

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        assert start.code_verifier == "verifier-123"
        assert start.app == {"client_id": "cid", "client_secret": "csecret"}
        if code not in ("good-code", "pages-code"):
            raise AuthExpired("The code was refused.", detail="invalid_grant")
        return ConnectResult(
            account=AccountInfo(remote_id="42", handle="maha@" + self.server_url.split("//")[1]),
            credentials=Credentials(secrets={"access_token": "tok"}),
            choices=PAGES if code == "pages-code" else (),
        )

    def connect_choice(self, remote_id: str) -> ConnectResult:
        # Acts with the sign-in's token, as Facebook does with the user token.
        assert self.credentials.secrets["access_token"] == "tok"
        page = next(p for p in PAGES if p.remote_id == remote_id)
        if remote_id == "p-gone":
            raise Rejected("FakeOAuth no longer shares this Page with Minbar. Connect again.")
        return ConnectResult(
            account=AccountInfo(remote_id=remote_id, handle=page.name),
            credentials=Credentials(secrets={"access_token": f"page-token-{remote_id}"}),
        )


PAGES = (
    AccountChoice(remote_id="p-1", name="Acme Riyadh", kind="page", detail="1,200 followers"),
    AccountChoice(remote_id="p-2", name="أكمي جدة", kind="page"),
    AccountChoice(remote_id="p-gone", name="Old Page", kind="page"),
)
