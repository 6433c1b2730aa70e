"""Fixtures: one fake LinkedIn per test module run, its app configured, channels connected
through the full OAuth code flow."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.linkedin.tests import fake as fake_module
from minbar.connectors.linkedin.tests.fake import FakeLinkedIn, Member, Running
from minbar.connectors.types import AccountInfo

REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def running() -> Iterator[Running]:
    server = fake_module.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(running: Running, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLinkedIn]:
    """The fake with no fault or limit left over from another test; quick media polling."""
    monkeypatch.setattr(LinkedInConnector, "media_poll_interval", 0.01)
    state = running.fake
    with state.lock:
        state.faults.clear()
        state.daily_member_limit, state.daily_app_limit = 10_000, 100_000
        state.calls_today.clear()
        state.refresh_tokens_enabled = False
        state.processing_polls, state.fail_processing = 1, False
        state.video_part_size = 4 * 1024 * 1024
    yield state
    state.faults.clear()


def configure(settings: Any, running: Running, scopes: str = "community") -> None:
    settings.MINBAR_NETWORK_APPS = {
        "linkedin": {
            "client_id": running.fake.client_id,
            "client_secret": running.fake.client_secret,
            "api_url": running.url,
            "scopes": scopes,
        }
    }


@pytest.fixture
def app(settings: Any, running: Running, fake: FakeLinkedIn) -> dict[str, str]:
    configure(settings, running)
    return dict(settings.MINBAR_NETWORK_APPS["linkedin"])


@dataclass
class Connected:
    connector: LinkedInConnector
    account: AccountInfo
    member: Member


def approve(running: Running, url: str, member: Member) -> dict[str, str]:
    """Be the person on LinkedIn's consent page: approve, and return the redirect's query."""
    answer = httpx.get(url, headers={"X-Fake-Member": member.urn}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert answer.headers["location"].startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def sign_in(running: Running, member: Member) -> Connected:
    connector = LinkedInConnector()
    start = connector.start_oauth(REDIRECT_URI, f"state-{member.id}")
    answer = approve(running, start.url, member)
    assert answer["state"] == start.state
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    # Every Page the member administers is offered to the channels app's picker.
    assert [c.remote_id for c in result.choices] == [
        o["urn"] for o in result.credentials.data["organizations"]
    ]
    return Connected(
        connector=LinkedInConnector("", result.credentials),
        account=result.account,
        member=member,
    )


@pytest.fixture
def member_channel(app: dict[str, str], running: Running, fake: FakeLinkedIn) -> Connected:
    return sign_in(running, fake.add_member("Maya", "Haddad"))


@pytest.fixture
def page_channel(app: dict[str, str], running: Running, fake: FakeLinkedIn) -> Connected:
    member = fake.add_member("Omar", "Saleh")
    page = fake.add_page("Acme Tea", [member])
    signed_in = sign_in(running, member)
    result = signed_in.connector.page_connection(page)
    return Connected(LinkedInConnector("", result.credentials), result.account, member)
