"""Failures, injected into a running mastodon-mock, land in the right part of the taxonomy.

Mastodon's error answers are ``{"error": "..."}`` with an HTTP status
(https://docs.joinmastodon.org/entities/Error/); its rate limits answer 429 with
``X-RateLimit-Reset`` (https://docs.joinmastodon.org/api/rate-limits/).

Fault rules (``POST /api/v1/_mock/faults``) make the next matching request fail
before the mock's own handler runs, so a faulted post was never made — the
tests check that too, through ``lookup`` and the account's statuses.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.mastodon import MastodonConnector
from minbar.connectors.mastodon.tests.conftest import Connected
from minbar.connectors.mastodon.tests.mockserver import (
    Account,
    MockServer,
    free_port,
    statuses_of,
    tiny_png,
)
from minbar.connectors.types import Credentials, MediaItem, PostRequest

STATUSES = "/api/v1/statuses"


def iso_in(seconds: float) -> str:
    """An ``X-RateLimit-Reset`` value as Mastodon writes it (ISO 8601, UTC)."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_429_gives_the_wait_from_the_headers_and_the_retry_succeeds(
    brand: Connected, mock: MockServer
) -> None:
    mock.add_fault(
        method="POST",
        path=STATUSES,
        effect={
            "type": "ratelimit",
            # Mastodon documents X-RateLimit-Reset; it wins over Retry-After.
            "headers": {"X-RateLimit-Reset": iso_in(2), "Retry-After": "300"},
        },
    )
    request = PostRequest(text="Launch day!", idempotency_key="rl-1")
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(request)
    # The connector did not sleep: Minbar's engine decides when to wait.
    assert time.monotonic() - started < 1.5
    limited = caught.value
    assert limited.status == 429
    assert 0.5 < limited.retry_after <= 3.5
    assert "slow down" in limited.message
    assert limited.until > datetime.now(UTC)
    assert brand.connector.lookup(idempotency_key="rl-1") is None

    time.sleep(limited.retry_after)
    result = brand.connector.publish(request)
    assert [s["id"] for s in statuses_of(mock, brand.account.remote_id)] == [result.remote_id]


def test_429_without_headers_falls_back_to_the_mock_defaults(
    brand: Connected, mock: MockServer
) -> None:
    # The mock's own 429 says X-RateLimit-Reset = now + 300 s, like a spent window.
    mock.add_fault(method="GET", path="/api/v1/notifications", effect={"type": "ratelimit"})
    with pytest.raises(RateLimited) as caught:
        brand.connector.interactions()
    assert 290 <= caught.value.retry_after <= 301


def test_429_on_media_upload_posts_nothing(
    brand: Connected, mock: MockServer, tmp_path: Path
) -> None:
    mock.add_fault(
        method="POST",
        path="/api/v2/media",
        effect={"type": "ratelimit", "headers": {"X-RateLimit-Reset": iso_in(60)}},
    )
    media = (MediaItem(str(tiny_png(tmp_path / "a.png")), "image/png", "A dot"),)
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="Photo", media=media, idempotency_key="rm"))
    assert 55 <= caught.value.retry_after <= 61
    assert statuses_of(mock, brand.account.remote_id) == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, TemporaryError),
        (502, TemporaryError),
        # The request reached the instance, which failed midway: the post may exist.
        (500, OutcomeUnknown),
        (504, OutcomeUnknown),
    ],
)
def test_server_errors_on_publish(
    brand: Connected, mock: MockServer, status: int, error: type[Exception]
) -> None:
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "status", "status": status})
    request = PostRequest(text=f"Try {status}", idempotency_key=f"5xx-{status}")
    with pytest.raises(error) as caught:
        brand.connector.publish(request)
    assert getattr(caught.value, "status", None) == status
    # Reconcile as the engine would, then retry: exactly one post in the end.
    assert brand.connector.lookup(idempotency_key=f"5xx-{status}") is None
    brand.connector.publish(request)
    assert len(statuses_of(mock, brand.account.remote_id)) == 1


def test_503_on_a_read_is_temporary(brand: Connected, mock: MockServer) -> None:
    mock.add_fault(
        method="GET",
        path="/api/v1/accounts/verify_credentials",
        effect={"type": "status", "status": 503},
    )
    with pytest.raises(TemporaryError) as caught:
        brand.connector.verify()
    assert caught.value.status == 503
    assert "Service temporarily unavailable" in caught.value.detail
    assert brand.connector.verify() == brand.account


def test_422_shows_the_instance_reason(brand: Connected, mock: MockServer) -> None:
    reason = "Validation failed: Text character limit of 500 exceeded"
    mock.add_fault(
        method="POST",
        path=STATUSES,
        effect={"type": "status", "status": 422, "body": {"error": reason}},
    )
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Fine by us", idempotency_key="422"))
    rejected = caught.value
    assert rejected.status == 422
    assert rejected.detail == reason
    assert rejected.message == f"Mastodon ({mock.domain}) refused it: {reason}."
    assert statuses_of(mock, brand.account.remote_id) == []


def test_the_instance_is_the_judge_of_length(brand: Connected, mock: MockServer) -> None:
    # 400 letters and a 150-character link: 424 by Mastodon's rule (links count
    # as 23), so Minbar sends it; mastodon-mock counts raw characters (551) and
    # refuses — its own words reach the person.
    link = "https://example.org/" + "a" * 130
    text = "x" * 400 + " " + link
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text=text, idempotency_key="long"))
    assert caught.value.status == 422
    assert "Text is too long (maximum is 500 characters)" in caught.value.message


def test_too_long_is_refused_before_anything_is_sent(brand: Connected, mock: MockServer) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(
            PostRequest(
                text="Part one",
                thread=("Part two", "é" * 501),
                idempotency_key="too-long",
            )
        )
    assert caught.value.message == (
        "Post 3 of the thread: Mastodon: 501/500 characters (links count as 23)"
    )
    assert caught.value.status is None  # Minbar's own check, no request made
    assert statuses_of(mock, brand.account.remote_id) == []


def test_401_asks_for_a_reconnect(brand: Connected, mock: MockServer) -> None:
    mock.add_fault(
        method="GET",
        path="/api/v1/accounts/verify_credentials",
        effect={"type": "status", "status": 401, "body": {"error": "The access token is invalid"}},
    )
    with pytest.raises(AuthExpired) as caught:
        brand.connector.verify()
    assert caught.value.status == 401
    assert caught.value.message == (
        f"Mastodon ({mock.domain}) no longer accepts Minbar's access to this account: "
        "The access token is invalid. Reconnect the account."
    )

    # And a token the instance never issued, without any fault.
    revoked = Credentials(
        secrets={"access_token": "revoked"}, data=dict(brand.connector.credentials.data)
    )
    with pytest.raises(AuthExpired):
        MastodonConnector(mock.url, revoked).publish(PostRequest(text="Hi", idempotency_key="x"))


def test_403_outside_scopes_asks_for_a_reconnect(brand: Connected, mock: MockServer) -> None:
    mock.add_fault(
        method="GET",
        path="/api/v1/notifications",
        effect={
            "type": "status",
            "status": 403,
            "body": {"error": "This action is outside the authorized scopes"},
        },
    )
    with pytest.raises(AuthExpired):
        brand.connector.interactions()


def impatient(brand: Connected, mock: MockServer) -> MastodonConnector:
    """The same account with a one-second timeout (only the faulted call uses it)."""
    return MastodonConnector(mock.url, brand.connector.credentials, timeout=1.0)


def test_timeout_on_a_post_is_an_unknown_outcome_then_reconciled(
    brand: Connected, mock: MockServer
) -> None:
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "latency", "delay_ms": 2500})
    request = PostRequest(text="Slow network day", idempotency_key="slow-1")
    with pytest.raises(OutcomeUnknown) as caught:
        impatient(brand, mock).publish(request)
    assert "may have gone out" in caught.value.message
    time.sleep(2.0)  # let the instance finish (or drop) the request

    # What the engine does: look the post up by its key, publish only if absent.
    # (mastodon-mock drops a request whose client has hung up, so it is absent
    # here; a real instance may have posted it, and the key then finds it.)
    found = brand.connector.lookup(idempotency_key="slow-1")
    result = brand.connector.publish(request)
    if found is not None:
        assert result.remote_id == found.remote_id
    assert len(statuses_of(mock, brand.account.remote_id)) == 1


def test_timeout_on_a_read_is_temporary(brand: Connected, mock: MockServer) -> None:
    mock.add_fault(
        method="GET",
        path="/api/v1/accounts/verify_credentials",
        effect={"type": "latency", "delay_ms": 2500},
    )
    with pytest.raises(TemporaryError):
        impatient(brand, mock).verify()


def test_unreadable_answer_to_a_post_is_an_unknown_outcome(
    brand: Connected, mock: MockServer
) -> None:
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "malformed"})
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(PostRequest(text="Garbled", idempotency_key="garbled"))


def test_redirects_are_never_followed(brand: Connected, mock: MockServer) -> None:
    mock.add_fault(
        method="GET",
        path="/api/v1/accounts/verify_credentials",
        effect={
            "type": "status",
            "status": 302,
            "headers": {"Location": "http://169.254.169.254/latest/meta-data/"},
        },
    )
    with pytest.raises(Rejected) as caught:
        brand.connector.verify()
    assert "redirect to http://169.254.169.254/latest/meta-data/" in caught.value.message
    assert caught.value.status == 302


def test_unreachable_instance_is_temporary_even_for_a_post(brand: Connected) -> None:
    gone = MastodonConnector(
        f"http://127.0.0.1:{free_port()}", brand.connector.credentials, timeout=2
    )
    with pytest.raises(TemporaryError) as caught:
        gone.publish(PostRequest(text="Anyone there?", idempotency_key="gone"))
    assert "cannot reach" in caught.value.message


def test_publish_waits_for_media_processing(
    brand: Connected,
    fan: Account,
    mock: MockServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Mastodon answers an upload with 202 and "url": null until it has processed
    # the file; the mock processes at once, so a fault plays the 202 (pointing at
    # a real, processed attachment the next GET /api/v1/media/:id returns).
    png = str(tiny_png(tmp_path / "p.png"))
    with open(png, "rb") as handle:
        uploaded = mock.http.post(
            "/api/v2/media",
            files={"file": ("p.png", handle, "image/png")},
            data={"description": "Processed"},
            headers=fan.headers,
        ).json()
    mock.add_fault(
        method="POST",
        path="/api/v2/media",
        effect={
            "type": "status",
            "status": 202,
            "body": {"id": uploaded["id"], "type": "image", "url": None, "description": "x"},
        },
    )
    monkeypatch.setattr(MastodonConnector, "media_poll_interval", 0.05)
    media = (MediaItem(png, "image/png", "Processed"),)
    result = brand.connector.publish(
        PostRequest(text="Processed", media=media, idempotency_key="p")
    )
    status = mock.http.get(f"/api/v1/statuses/{result.remote_id}").json()
    assert [m["id"] for m in status["media_attachments"]] == [str(uploaded["id"])]


def test_media_still_processing_after_the_bound_is_temporary(
    brand: Connected, mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pending = {"id": "424242", "type": "video", "url": None}
    mock.add_fault(
        method="POST",
        path="/api/v2/media",
        effect={"type": "status", "status": 202, "body": pending},
    )
    mock.add_fault(
        method="GET",
        path="/api/v1/media/424242",
        effect={"type": "status", "status": 206, "body": pending},
        count=100,
    )
    monkeypatch.setattr(MastodonConnector, "media_poll_interval", 0.05)
    monkeypatch.setattr(MastodonConnector, "media_processing_timeout", 0.5)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    started = time.monotonic()
    with pytest.raises(TemporaryError, match=r"still processing clip\.mp4"):
        brand.connector.publish(
            PostRequest(text="Clip", media=(MediaItem(str(video), "video/mp4", "A clip"),))
        )
    assert time.monotonic() - started < 5
    assert statuses_of(mock, brand.account.remote_id) == []
