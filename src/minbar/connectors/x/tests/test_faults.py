"""Failures from the local X fake land in the right part of the taxonomy.

Problem bodies: https://docs.x.com/x-api/fundamentals/response-codes-and-errors;
rate limits (x-rate-limit-* headers, 429): https://docs.x.com/x-api/fundamentals/rate-limits.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.types import Credentials, PostRequest
from minbar.connectors.x import XConnector
from minbar.connectors.x.tests.conftest import Connected, connect
from minbar.connectors.x.tests.fake import PROBLEMS, FakeX


def test_429_gives_the_wait_from_x_rate_limit_reset(brand: Connected, fake: FakeX) -> None:
    reset = int(time.time()) + 120
    fake.fail_next("POST", "/2/tweets", "ratelimit", headers={"x-rate-limit-reset": str(reset)})
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="Launch", idempotency_key="rl"))
    assert time.monotonic() - started < 2  # Minbar's engine waits, not the connector
    assert 115 <= caught.value.retry_after <= 121
    assert caught.value.status == 429
    assert brand.connector.lookup(idempotency_key="rl") is None


def test_429_without_reset_waits_a_window(brand: Connected, fake: FakeX) -> None:
    fake.fail_next(
        "GET",
        r"/2/users/\d+/mentions",
        "status",
        status=429,
        body={"title": "Too Many Requests", "type": "about:blank", "status": 429},
    )
    with pytest.raises(RateLimited) as caught:
        brand.connector.interactions()
    assert caught.value.retry_after == 900


def test_spent_window_is_refused_before_asking_again(brand: Connected, fake: FakeX) -> None:
    fake.limits["GET /2/users/:id/mentions"] = 2
    brand.connector.interactions()
    brand.connector.interactions()  # answers x-rate-limit-remaining: 0
    asked = len(fake.requests)
    with pytest.raises(RateLimited) as caught:
        brand.connector.interactions()
    assert len(fake.requests) == asked, "no request was sent into a spent window"
    assert 0 < caught.value.retry_after <= 900
    # Other endpoints have their own windows.
    assert brand.connector.verify().remote_id == brand.user.id


def test_spent_window_is_shared_by_connector_instances(brand: Connected, fake: FakeX) -> None:
    fake.limits["GET /2/users/me"] = 2  # connecting used one
    brand.connector.verify()
    other = XConnector(credentials=brand.connector.credentials)
    asked = len(fake.requests)
    with pytest.raises(RateLimited):
        other.verify()
    assert len(fake.requests) == asked


def test_usage_cap_is_a_long_wait(brand: Connected, fake: FakeX) -> None:
    fake.fail_next(
        "GET",
        "/2/tweets/search/recent",
        "status",
        status=429,
        body={
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": PROBLEMS + "usage-capped",
            "status": 429,
        },
    )
    with pytest.raises(RateLimited) as caught:
        brand.connector.search("coffee")
    assert caught.value.retry_after >= 900
    assert "usage cap" in caught.value.message


def test_duplicate_content_is_rejected_with_x_words(brand: Connected, fake: FakeX) -> None:
    brand.connector.publish(PostRequest(text="Same words", idempotency_key="a"))
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Same words", idempotency_key="b"))
    assert caught.value.status == 403
    assert "duplicate content" in caught.value.detail
    assert "same text" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, TemporaryError), (502, TemporaryError), (500, OutcomeUnknown), (504, OutcomeUnknown)],
)
def test_server_errors_on_publish(
    brand: Connected, fake: FakeX, status: int, error: type[Exception]
) -> None:
    fake.fail_next("POST", "/2/tweets", "status", status=status, body={"title": "Oops"})
    request = PostRequest(text=f"Try {status}", idempotency_key=f"5xx-{status}")
    with pytest.raises(error):
        brand.connector.publish(request)
    # Reconcile as the engine does: nothing went out, so publishing again is safe.
    assert brand.connector.lookup(idempotency_key=request.idempotency_key) is None
    brand.connector.publish(request)
    assert [p.text for p in fake.own_posts(brand.user)] == [f"Try {status}"]


def test_answer_lost_after_the_post_was_made_is_reconciled_by_lookup(
    brand: Connected, fake: FakeX
) -> None:
    fake.fail_next("POST", "/2/tweets", "cut", apply_first=True)
    request = PostRequest(text="Grand opening https://example.com/open", idempotency_key="cut")
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    (made,) = fake.own_posts(brand.user)
    # A new connector, as the engine builds, with the credentials the channel saved.
    saved = brand.saved[-1]
    later = XConnector(credentials=saved)
    found = later.lookup(idempotency_key="cut")
    assert found is not None and found.remote_id == made.id
    assert found.text == "Grand opening https://example.com/open"
    # Publishing the same request again does not post twice.
    result = XConnector(credentials=later.credentials).publish(request)
    assert result.remote_id == made.id
    assert len(fake.own_posts(brand.user)) == 1


def test_timeout_after_sending_is_outcome_unknown(fake: FakeX) -> None:
    slow = connect(fake, "slow", timeout=0.5)
    fake.fail_next("POST", "/2/tweets", "delay", seconds=1.5)
    with pytest.raises(OutcomeUnknown):
        slow.connector.publish(PostRequest(text="Slow", idempotency_key="slow"))


def test_duplicate_after_a_lost_answer_counts_as_published(brand: Connected, fake: FakeX) -> None:
    fake.fail_next("POST", "/2/tweets", "cut", apply_first=True)
    request = PostRequest(text="Only once", idempotency_key="once")
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    # Without reconciling, a retry meets X's duplicate check and finds its own post.
    result = brand.connector.publish(request)
    assert [p.id for p in fake.own_posts(brand.user)] == [result.remote_id]


def test_connection_refused_is_temporary(settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MINBAR_NETWORK_APPS = {"x": {"client_id": "c", "api_url": f"http://127.0.0.1:{port}"}}
    settings.MINBAR_ALLOW_PRIVATE_URLS = True
    connector = XConnector(credentials=Credentials(secrets={"access_token": "t"}))
    with pytest.raises(TemporaryError):
        connector.publish(PostRequest(text="hi", idempotency_key="refused"))


def test_401_without_refresh_token_is_auth_expired(fake: FakeX) -> None:
    connector = XConnector(credentials=Credentials(secrets={"access_token": "nope"}))
    with pytest.raises(AuthExpired):
        connector.verify()


def test_missing_scope_is_auth_expired(brand: Connected, fake: FakeX) -> None:
    for token in fake.tokens.values():
        if token.user_id == brand.user.id:
            token.scopes = token.scopes - {"tweet.moderate.write"}
    reply = fake.post_as(fake.add_user("someone"), "hi")
    from minbar.connectors.types import RemoteRef

    with pytest.raises(AuthExpired) as caught:
        brand.connector.hide(RemoteRef(remote_id=reply.id))
    assert "scope" in caught.value.message.lower()


def test_client_forbidden_is_not_supported(brand: Connected, fake: FakeX) -> None:
    fake.fail_next(
        "GET",
        "/2/tweets/search/recent",
        "status",
        status=403,
        body={
            "client_id": "1",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must "
            "use keys and tokens from a Twitter developer App that is attached to a Project.",
            "registration_url": "https://developer.x.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": PROBLEMS + "client-forbidden",
        },
    )
    with pytest.raises(NotSupported) as caught:
        brand.connector.search("coffee")
    assert "developer portal" in caught.value.message
    assert "client-forbidden" in caught.value.detail


def test_invalid_request_keeps_x_message(brand: Connected, fake: FakeX) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.search("x" * 513)
    assert "512" in caught.value.message
    fake.fail_next(
        "POST",
        "/2/tweets",
        "status",
        status=400,
        body={
            "errors": [{"parameters": {"text": ["x"]}, "message": "Your Tweet text is too long."}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
    )
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="hello", idempotency_key="inv"))
    assert "Your Tweet text is too long" in caught.value.message
