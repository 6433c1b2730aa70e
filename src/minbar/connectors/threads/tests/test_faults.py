"""Failures land in the right part of the taxonomy; unknown outcomes are settled, never doubled.

Graph-style errors: https://developers.facebook.com/docs/graph-api/guides/error-handling;
rate-limit headers: https://developers.facebook.com/docs/graph-api/overview/rate-limiting;
container status: https://developers.facebook.com/docs/threads/troubleshooting.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.threads import ThreadsConnector
from minbar.connectors.threads.connector import LEDGER
from minbar.connectors.threads.failures import error_for_response, retry_after_from_headers
from minbar.connectors.threads.tests.conftest import Connected
from minbar.connectors.threads.tests.fake import FakeThreads
from minbar.connectors.types import Credentials, PostRequest


def graph_error(
    code: int, subcode: int | None = None, message: str = "Boom", status: int = 400, **headers: str
) -> httpx.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(400, json={"error": error})


@pytest.mark.parametrize(
    ("code", "subcode", "error"),
    [
        (190, 460, AuthExpired),  # password changed
        (190, 463, AuthExpired),  # expired
        (102, None, AuthExpired),
        (4, None, RateLimited),  # app too many calls
        (17, None, RateLimited),  # user too many calls
        (613, None, RateLimited),
        (2, None, TemporaryError),  # service unavailable
        (1, None, TemporaryError),  # unknown, on a read
        (10, None, Rejected),  # permission
        (200, None, Rejected),
        (100, 33, Rejected),  # does not exist
        (368, None, Rejected),  # blocked for policy
        (506, None, Rejected),  # duplicate
    ],
)
def test_graph_error_codes_map_to_the_taxonomy(code: int, subcode: int | None, error: type) -> None:
    mapped = error_for_response(graph_error(code, subcode, "Threads says no"))
    assert type(mapped) is error
    assert "Threads says no" in mapped.message or isinstance(mapped, RateLimited)
    assert f"code {code}" in mapped.detail and "fbtrace_id AbC" in mapped.detail
    if subcode == 33:
        assert mapped.status == 404


def test_an_unknown_error_on_publish_is_an_unknown_outcome() -> None:
    assert isinstance(error_for_response(graph_error(1), writes=True), OutcomeUnknown)
    assert isinstance(error_for_response(graph_error(2), writes=True), TemporaryError)
    assert isinstance(
        error_for_response(httpx.Response(504, text="gateway"), writes=True), OutcomeUnknown
    )
    assert isinstance(
        error_for_response(httpx.Response(503, text="down"), writes=True), TemporaryError
    )


def test_user_message_is_preferred_and_permission_errors_say_what_to_do() -> None:
    response = httpx.Response(
        400,
        json={
            "error": {
                "message": "Too many links",
                "code": 100,
                "error_user_msg": "THREADS_API__LINK_LIMIT_EXCEEDED",
            }
        },
    )
    assert "THREADS_API__LINK_LIMIT_EXCEEDED" in error_for_response(response).message
    assert "grant every permission" in error_for_response(graph_error(10)).message


def test_rate_limit_waits_come_from_meta_headers() -> None:
    business = json.dumps(
        {"123": [{"type": "threads", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    )
    assert retry_after_from_headers({"X-Business-Use-Case-Usage": business}) == 420.0
    assert retry_after_from_headers({"Retry-After": "30"}) == 30.0
    spent = json.dumps({"call_count": 100, "total_cputime": 20, "total_time": 30})
    assert retry_after_from_headers({"X-App-Usage": spent}) == 3600.0
    assert retry_after_from_headers({"X-App-Usage": json.dumps({"call_count": 5})}) == 300.0
    response = httpx.Response(
        400,
        json={"error": {"message": "Too many calls", "code": 4}},
        headers={"X-Business-Use-Case-Usage": business},
    )
    limited = error_for_response(response)
    assert isinstance(limited, RateLimited) and limited.retry_after == 420.0


def test_app_call_budget_spent_on_the_fake_is_rate_limited(
    brand: Connected, fake: FakeThreads
) -> None:
    fake.app_usage = 100
    with pytest.raises(RateLimited) as caught:
        brand.connector.verify()
    assert caught.value.retry_after == 120.0  # the fake's Retry-After


def test_missing_permission_is_rejected_not_a_broken_sign_in(fake: FakeThreads) -> None:
    user = fake.create_user("limited")
    token = fake.token_for(user, scopes=frozenset({"threads_basic", "threads_content_publish"}))
    connector = ThreadsConnector(credentials=_credentials(token, user.id))
    with pytest.raises(Rejected, match="permissions Minbar was given"):
        connector.account_metrics()


def _credentials(token: str, user_id: str) -> Credentials:
    return Credentials(secrets={"access_token": token}, data={"user_id": user_id})


def test_server_trouble_creating_a_container_is_temporary(
    brand: Connected, fake: FakeThreads
) -> None:
    fake.add_fault(
        "POST",
        f"/v1.0/{brand.user.id}/threads",
        status=503,
        body={"error": {"message": "Service temporarily unavailable", "code": 2}},
    )
    with pytest.raises(TemporaryError, match="Service temporarily unavailable"):
        brand.connector.publish(PostRequest(text="later"))
    assert fake.posts_of(brand.user) == []


def test_connection_refused_is_temporary(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {
        "threads": {"client_id": "1", "client_secret": "s", "api_url": "http://127.0.0.1:9"}
    }
    connector = ThreadsConnector(credentials=_credentials("THAAtoken", "1"))
    with pytest.raises(TemporaryError, match="cannot reach"):
        connector.publish(PostRequest(text="nobody listens"))


def test_lost_answer_to_publish_is_settled_by_asking_the_container(
    brand: Connected, fake: FakeThreads
) -> None:
    """threads_publish succeeds but the connection resets: the post is found, not doubled."""
    fake.add_fault("POST", f"/v1.0/{brand.user.id}/threads_publish", when="after", reset=True)
    result = brand.connector.publish(PostRequest(text="Exactly once", idempotency_key="once"))
    assert [p["id"] for p in fake.posts_of(brand.user)] == [result.remote_id]


def test_publish_failing_before_threads_acts_is_published_again_from_the_same_container(
    brand: Connected, fake: FakeThreads
) -> None:
    fake.add_fault(
        "POST",
        f"/v1.0/{brand.user.id}/threads_publish",
        status=500,
        body={"error": {"message": "An unknown error occurred", "code": 1}},
    )
    result = brand.connector.publish(PostRequest(text="Retry inside", idempotency_key="inside"))
    assert [p["id"] for p in fake.posts_of(brand.user)] == [result.remote_id]
    assert len([r for r in fake.requests if r["path"].endswith("/threads")]) == 1  # one container


def test_unknown_outcome_then_lookup_then_retry_makes_one_post(
    brand: Connected, fake: FakeThreads
) -> None:
    """The answer is lost and so is the status check: the engine looks the key up later."""
    fake.add_fault("POST", f"/v1.0/{brand.user.id}/threads_publish", when="after", reset=True)
    fake.add_fault(
        "GET",
        "/v1.0/",
        armed_by="/threads_publish",
        status=503,
        body={"error": {"message": "down", "code": 2}},
    )
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(PostRequest(text="Did it go?", idempotency_key="unknown-1"))
    found = brand.connector.lookup(idempotency_key="unknown-1")
    assert found is not None and found.text == "Did it go?"
    assert [p["id"] for p in fake.posts_of(brand.user)] == [found.remote_id]
    # Publishing the same request again (a retry) does not post twice either.
    again = brand.connector.publish(PostRequest(text="Did it go?", idempotency_key="unknown-1"))
    assert again.remote_id == found.remote_id
    assert len(fake.posts_of(brand.user)) == 1


def test_lookup_of_a_key_that_did_not_go_out(brand: Connected, fake: FakeThreads) -> None:
    # Both tries reset before Threads acts: the container stays FINISHED, nothing is out.
    fake.add_fault("POST", f"/v1.0/{brand.user.id}/threads_publish", count=2, reset=True)
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(PostRequest(text="Never out", idempotency_key="no-1"))
    assert (
        brand.connector.lookup(idempotency_key="no-1") is None
    )  # container FINISHED, not PUBLISHED
    assert brand.connector.lookup(idempotency_key="never-seen") is None
    assert fake.posts_of(brand.user) == []
    LEDGER.clear()


def test_a_thread_stopped_by_a_rate_limit_resumes_without_doubling(
    brand: Connected, fake: FakeThreads
) -> None:
    """Part 1 is out when part 2 hits a rate limit; the retry posts only part 2."""
    fake.add_fault(
        "POST",
        f"/v1.0/{brand.user.id}/threads_publish",
        armed_by="/threads_publish",
        status=400,
        body={"error": {"message": "Application request limit reached", "code": 4}},
    )
    request = PostRequest(text="part 1", thread=("part 2",), idempotency_key="resume")
    with pytest.raises(RateLimited):
        brand.connector.publish(request)
    assert [m["text"] for m in fake.posts_of(brand.user)] == ["part 1"]
    result = brand.connector.publish(request)
    assert [m["text"] for m in fake.posts_of(brand.user)] == ["part 1"]
    [part2] = fake.replies_of(brand.user)
    assert part2["text"] == "part 2" and part2["replied_to"] == result.remote_id
    assert result.thread_ids == (part2["id"],)


def test_a_timeout_reading_is_temporary(brand: Connected, fake: FakeThreads) -> None:
    fake.add_fault("GET", "/v1.0/me", delay=1.0)
    slow = ThreadsConnector(credentials=brand.connector.credentials, timeout=0.3)
    with pytest.raises(TemporaryError, match="did not answer in time"):
        slow.verify()
