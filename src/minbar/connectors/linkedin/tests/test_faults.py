"""Failures land in the right part of the taxonomy; unknown outcomes are reconciled.

LinkedIn's error body is ``{"status", "serviceErrorCode", "code", "message"}``
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling);
its daily limits answer 429 with no header and reset at midnight UTC
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.linkedin.failures import seconds_until_midnight_utc, translate
from minbar.connectors.linkedin.tests.conftest import Connected
from minbar.connectors.linkedin.tests.fake import FakeLinkedIn
from minbar.connectors.types import PostRequest


def posts_of(fake: FakeLinkedIn, author: str) -> list[str]:
    return [urn for urn, post in fake.posts.items() if post["author"] == author]


def test_a_daily_limit_waits_until_midnight_utc(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    fake.daily_member_limit = 0  # every further call today is over the member's limit
    expected = seconds_until_midnight_utc()
    with pytest.raises(RateLimited) as caught:
        page_channel.connector.publish(PostRequest(text="Over the limit", idempotency_key="rl"))
    limited = caught.value
    assert limited.status == 429
    assert expected - 5 <= limited.retry_after <= expected
    assert limited.until.astimezone(UTC).strftime("%H:%M") in ("00:00", "23:59")
    assert "MEMBER DAY limit" in limited.detail
    assert posts_of(fake, page_channel.account.remote_id) == []


def test_the_application_limit_too(page_channel: Connected, fake: FakeLinkedIn) -> None:
    fake.daily_app_limit = 0
    with pytest.raises(RateLimited) as caught:
        page_channel.connector.interactions()
    assert "APPLICATION DAY limit" in caught.value.detail
    assert caught.value.retry_after > 60 or datetime.now(UTC).hour == 23


def test_midnight_is_computed_in_utc() -> None:
    moment = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    assert seconds_until_midnight_utc(moment) == 90 * 60


def test_an_infrastructure_429_waits_a_minute(page_channel: Connected, fake: FakeLinkedIn) -> None:
    fake.add_fault(
        "POST", "/rest/posts", status=429, body={"status": 429, "message": "Too Many Requests"}
    )
    with pytest.raises(RateLimited) as caught:
        page_channel.connector.publish(PostRequest(text="Busy", idempotency_key="busy"))
    assert caught.value.retry_after == 60.0


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, OutcomeUnknown), (504, OutcomeUnknown), (502, TemporaryError), (503, TemporaryError)],
)
def test_server_errors_on_publish(
    page_channel: Connected, fake: FakeLinkedIn, status: int, error: type[Exception]
) -> None:
    fake.add_fault(
        "POST", "/rest/posts", status=status, body={"status": status, "message": "Internal"}
    )
    with pytest.raises(error) as caught:
        page_channel.connector.publish(
            PostRequest(text=f"Try {status}", idempotency_key=f"e{status}")
        )
    assert getattr(caught.value, "status", None) == status
    # The fault answered before LinkedIn acted: the lookup finds nothing.
    assert page_channel.connector.lookup(idempotency_key=f"e{status}") is None


def test_a_post_that_went_out_before_the_error_is_found_by_lookup(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    fake.add_fault(
        "POST",
        "/rest/posts",
        status=504,
        body={"status": 504, "message": "Gateway Timeout"},
        after=True,
    )
    request = PostRequest(text="Did it (really) go out? #maybe", idempotency_key="late")
    with pytest.raises(OutcomeUnknown):
        page_channel.connector.publish(request)
    # What the engine does: look the post up by its key (a new connector, same stored data).
    later = LinkedInConnector("", page_channel.connector.credentials)
    found = later.lookup(idempotency_key="late")
    assert found is not None
    assert found.remote_id in posts_of(fake, page_channel.account.remote_id)
    assert found.text == request.text
    assert later.lookup(idempotency_key="never-sent") is None


def test_a_timeout_after_sending_is_an_unknown_outcome(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    fake.add_fault("POST", "/rest/posts", delay=1.5, status=201)
    impatient = LinkedInConnector("", page_channel.connector.credentials, timeout=0.5)
    with pytest.raises(OutcomeUnknown, match="may have gone through"):
        impatient.publish(PostRequest(text="Slow day", idempotency_key="slow"))


def test_a_timeout_on_a_read_is_temporary(page_channel: Connected, fake: FakeLinkedIn) -> None:
    fake.add_fault("GET", "/rest/organizations/", delay=1.5, status=200)
    impatient = LinkedInConnector("", page_channel.connector.credentials, timeout=0.5)
    with pytest.raises(TemporaryError):
        impatient.verify()


def test_an_unreachable_server_is_temporary_even_for_a_post(page_channel: Connected) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = LinkedInConnector(
        f"http://127.0.0.1:{port}", page_channel.connector.credentials, timeout=2
    )
    with pytest.raises(TemporaryError, match="cannot reach"):
        gone.publish(PostRequest(text="Anyone?"))


def test_member_posts_cannot_be_looked_up(member_channel: Connected) -> None:
    with pytest.raises(NotSupported, match="approved partners"):
        member_channel.connector.lookup(idempotency_key="x")


def test_an_expired_token_is_auth_expired_with_the_reconnect_advice(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    for token in fake.tokens.values():
        token.expires = 0
    with pytest.raises(AuthExpired) as caught:
        page_channel.connector.publish(PostRequest(text="Expired"))
    assert "has expired" in caught.value.message
    assert "reconnect the channel" in caught.value.message


def test_a_missing_scope_asks_for_a_reconnect() -> None:
    response = httpx.Response(
        403,
        json={
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: scope r_organization_social was not granted",  # noqa: E501
        },
    )
    assert isinstance(translate(response), AuthExpired)


def test_a_redirect_is_never_followed(page_channel: Connected, fake: FakeLinkedIn) -> None:
    fake.add_fault(
        "GET", "/rest/organizations/", status=302, headers={"Location": "http://169.254.169.254/"}
    )
    with pytest.raises(TemporaryError, match="redirect"):
        page_channel.connector.verify()


def test_unreadable_error_bodies_keep_the_status() -> None:
    error = translate(httpx.Response(400, text="<html>bad</html>"))
    assert isinstance(error, Rejected)
    assert error.status == 400
    assert "bad" in error.detail
