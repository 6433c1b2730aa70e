"""Graph errors, usage headers and lost answers land in the right part of the taxonomy."""

from __future__ import annotations

import json
import time

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.facebook import FacebookConnector
from minbar.connectors.facebook.tests.conftest import Connected
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.types import PostRequest

FEED = r"/feed$"


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_rate_limit_codes_wait_as_meta_estimates(
    fake: FakeGraph, page: Connected, code: int
) -> None:
    usage = {
        page.page_id: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    fake.fail(
        "POST",
        FEED,
        code=code,
        message="(#32) Page request limit reached",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as caught:
        page.connector.publish(PostRequest(text="hello"))
    assert caught.value.retry_after == pytest.approx(7 * 60)


def test_near_limit_usage_stops_calls_before_they_are_made(
    fake: FakeGraph, page: Connected
) -> None:
    fake.usage_headers["X-App-Usage"] = json.dumps(
        {"call_count": 96, "total_time": 10, "total_cputime": 10}
    )
    page.connector.verify()
    fake.usage_headers.clear()
    before = len(fake.requests)
    with pytest.raises(RateLimited) as caught:
        page.connector.publish(PostRequest(text="not yet"))
    assert len(fake.requests) == before  # nothing was sent
    assert 200 < caught.value.retry_after <= 300


def test_expired_token_is_auth_expired_with_the_reason(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", FEED, code=190, subcode=463, message="Session has expired")
    with pytest.raises(AuthExpired, match="expired"):
        page.connector.publish(PostRequest(text="x"))


def test_policy_block_is_rejected_with_metas_words(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", FEED, code=368, message="It looks like you were misusing this feature")
    with pytest.raises(Rejected) as caught:
        page.connector.publish(PostRequest(text="x"))
    assert "misusing this feature" in caught.value.message
    assert "misusing" in caught.value.detail


def test_invalid_parameter_and_duplicates_are_rejected(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", FEED, code=100, message="(#100) Invalid parameter")
    with pytest.raises(Rejected, match="Invalid parameter"):
        page.connector.publish(PostRequest(text="x"))
    page.connector.publish(PostRequest(text="same words"))
    with pytest.raises(Rejected, match="duplicate"):
        page.connector.publish(PostRequest(text="same words"))


def test_missing_permission_is_rejected_and_says_to_reconnect(
    fake: FakeGraph, page: Connected
) -> None:
    fake.fail("POST", FEED, status=403, code=200, message="(#200) Requires pages_manage_posts")
    with pytest.raises(Rejected, match="Reconnect"):
        page.connector.publish(PostRequest(text="x"))


def test_transient_codes_on_reads_are_temporary(fake: FakeGraph, page: Connected) -> None:
    fake.fail(
        "GET", page.page_id + "$", status=500, code=2, message="Service temporarily unavailable"
    )
    with pytest.raises(TemporaryError):
        page.connector.verify()


def test_transient_codes_on_a_publish_are_unknown_and_lookup_reconciles(
    fake: FakeGraph, page: Connected
) -> None:
    # Meta answers code 2 also after the post was made ("after": the work is done).
    fake.fail("POST", FEED, status=500, code=2, message="An unexpected error", mode="after")
    request = PostRequest(text="Did it go?", idempotency_key="key-2")
    with pytest.raises(OutcomeUnknown):
        page.connector.publish(request)
    found = page.connector.lookup(idempotency_key="key-2")
    assert found is not None and found.text == "Did it go?"


def test_no_answer_after_sending_is_unknown_and_lookup_finds_the_post(
    fake: FakeGraph, page: Connected
) -> None:
    slow = FacebookConnector(page.connector.server_url, page.connector.credentials, timeout=0.5)
    fake.fail("POST", FEED, mode="hang")
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):
        slow.publish(PostRequest(text="Timed out", idempotency_key="key-3"))
    assert time.monotonic() - started < 2.0
    found = page.connector.lookup(idempotency_key="key-3")
    assert found is not None and found.text == "Timed out"
    assert page.connector.lookup(idempotency_key="never-sent") is None


def test_a_refused_publish_is_not_found_by_lookup(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", FEED, code=368, message="Blocked")
    with pytest.raises(Rejected):
        page.connector.publish(PostRequest(text="never out", idempotency_key="key-4"))
    assert page.connector.lookup(idempotency_key="key-4") is None


def test_connection_refused_is_temporary(page: Connected) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = FacebookConnector(f"http://127.0.0.1:{port}", page.connector.credentials, timeout=2.0)
    with pytest.raises(TemporaryError):
        closed.publish(PostRequest(text="x"))


def test_a_dropped_connection_on_publish_is_unknown(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", FEED, mode="drop")
    with pytest.raises(OutcomeUnknown):
        page.connector.publish(PostRequest(text="reset"))


def test_tokens_never_appear_in_error_details(fake: FakeGraph, page: Connected) -> None:
    token = page.connector.credentials.secrets["page_access_token"]
    fake.fail(
        "POST", FEED, status=400, body={"error": {"message": f"bad token {token}", "code": 100}}
    )
    with pytest.raises(Rejected) as caught:
        page.connector.publish(PostRequest(text="x"))
    assert token not in caught.value.detail and token not in caught.value.message
