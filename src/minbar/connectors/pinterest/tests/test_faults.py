"""Each failure class of the contract, and settling an unknown outcome with lookup."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from minbar.connectors.errors import (
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.pinterest.tests.conftest import Connected, FastPinterest, image_file
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import PostRequest


def test_a_rate_limit_waits_as_retry_after_says(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.limits["org_write"] = 0
    fake.rate_limit_headers = {"Retry-After": "42"}
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="Hi", media=(image_file(tmp_path),)))
    assert caught.value.retry_after == 42
    assert "code 8" in caught.value.detail
    assert fake.pins_of(brand.boards["recipes"]) == []


def test_a_rate_limit_reset_header_is_read_and_without_one_minbar_waits_a_minute(
    fake: FakePinterest, brand: Connected
) -> None:
    fake.limits["org_read"] = 0
    fake.rate_limit_headers = {"X-RateLimit-Reset": "17"}
    with pytest.raises(RateLimited) as caught:
        brand.connector.verify()
    assert caught.value.retry_after == 17
    fake.rate_limit_headers = {}
    with pytest.raises(RateLimited) as caught:
        brand.connector.verify()
    assert caught.value.retry_after == 60


def test_limits_are_counted_per_category(fake: FakePinterest, brand: Connected) -> None:
    fake.limits["org_write"] = 0
    # reading still works: the channel is the account's first board
    assert brand.connector.verify().remote_id == brand.result.account.remote_id


def test_a_429_for_spam_is_rejected_not_retried(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/v5/pins", status=429, code=8, message="Your request was blocked as spam.")
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Buy now", media=(image_file(tmp_path),)))
    assert "spam" in caught.value.message


def test_a_500_while_creating_a_pin_is_an_unknown_outcome(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/v5/pins", status=500, code=0, message="Internal error")
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(PostRequest(text="Hi", media=(image_file(tmp_path),)))


def test_a_503_while_reading_is_temporary(fake: FakePinterest, brand: Connected) -> None:
    fake.fail("GET", "/v5/user_account", status=503, message="Service unavailable")
    with pytest.raises(TemporaryError):
        brand.connector.verify()


def test_a_409_on_the_board_is_temporary(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/v5/pins", status=409, code=409, message="Could not get exclusive access")
    with pytest.raises(TemporaryError):
        brand.connector.publish(PostRequest(text="Hi", media=(image_file(tmp_path),)))


def test_a_400_is_rejected_with_pinterests_message(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/v5/pins", status=400, code=1, message="Invalid Pin parameters.")
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Hi", media=(image_file(tmp_path),)))
    assert "Invalid Pin parameters" in caught.value.message
    assert caught.value.status == 400


def test_nobody_listening_is_temporary(brand: Connected, settings: object) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = FastPinterest(f"http://127.0.0.1:{port}", brand.result.credentials)
    with pytest.raises(TemporaryError):
        connector.verify()


def test_a_lost_answer_is_unknown_and_lookup_finds_the_pin_by_its_key(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/v5/pins", kind="drop")  # created, never answered
    request = PostRequest(
        text="Picnic ideas\nTen easy dishes.",
        media=(image_file(tmp_path),),
        link="https://example.test/picnic",
        idempotency_key="k-lost",
    )
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    (created,) = fake.pins_of(brand.boards["recipes"])
    # Another worker, with what the first one saved, reconciles.
    found = brand.reopen().lookup(idempotency_key="k-lost")
    assert found is not None and found.remote_id == created["id"]
    # Publishing the same request again now returns that Pin, not a second one.
    again = brand.reopen().publish(request)
    assert again.remote_id == created["id"]
    assert len(fake.pins_of(brand.boards["recipes"])) == 1


def test_lookup_ignores_an_older_pin_with_the_same_text(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    fake.add_pin(
        brand.user,
        brand.boards["recipes"],
        description="Same words",
        at=datetime.now(UTC) - timedelta(days=2),
    )
    fake.fail("POST", "/v5/pins", status=502, message="Bad gateway")
    fake.fail("POST", "/v5/pins", status=502, message="Bad gateway")
    request = PostRequest(text="Same words", media=(image_file(tmp_path),), idempotency_key="k-o")
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    assert brand.reopen().lookup(idempotency_key="k-o") is None


def test_lookup_of_an_unknown_key_is_none(brand: Connected) -> None:
    assert brand.connector.lookup(idempotency_key="never-sent") is None
