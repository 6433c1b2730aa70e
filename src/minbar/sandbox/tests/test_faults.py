"""Fault injection and rate limits on the sandbox server."""

from __future__ import annotations

import time

import pytest

from minbar.core.errors import InvalidInput
from minbar.sandbox import actions
from minbar.sandbox.models import SandboxPost
from minbar.sandbox.tests.helpers import Api, install_clock, new_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    client = Api()
    client.connect(flavour="x", name="Faulty", seed=3)
    return client


def test_fail_next_forces_outcomes_in_order(api):
    faults = api.send("PUT", "/faults", {"fail_next": ["rate_limited", "server_error", "ok"]})
    assert faults.status_code == 200 and faults.json()["fail_next"][0] == "rate_limited"
    limited = api.get("/me")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "30"
    assert limited["X-RateLimit-Remaining"] == "0"
    assert int(limited["X-RateLimit-Reset"]) >= int(time.time()) + 29
    unavailable = api.get("/me")
    assert unavailable.status_code == 503
    assert api.get("/me").status_code == 200
    assert api.get("/me").status_code == 200  # the list is used up
    assert api.get("/faults").json()["fail_next"] == []


def test_ambiguous_failure_creates_the_post_but_answers_500(api):
    api.send("PUT", "/faults", {"fail_next": ["ambiguous"]})
    response = api.post("/posts", {"text": "Did it go out?", "idempotency_key": "k-1"})
    assert response.status_code == 500
    assert SandboxPost.objects.filter(idempotency_key="k-1").count() == 1
    found = api.get("/posts", idempotency_key="k-1").json()["items"]
    assert len(found) == 1 and found[0]["text"] == "Did it go out?"
    # Retrying with the same key returns the post instead of making another.
    again = api.post("/posts", {"text": "Did it go out?", "idempotency_key": "k-1"})
    assert again.status_code == 200 and again.json()["id"] == found[0]["id"]


def test_server_errors_change_nothing(api):
    api.send("PUT", "/faults", {"fail_next": ["server_error"]})
    assert api.post("/posts", {"text": "Not made", "idempotency_key": "k-2"}).status_code == 503
    assert not SandboxPost.objects.filter(idempotency_key="k-2").exists()


def test_timeouts_stall_then_answer_504(api):
    api.send(
        "PUT", "/faults", {"fail_next": ["timeout", "ambiguous_timeout"], "stall_seconds": 0.2}
    )
    started = time.monotonic()
    assert api.post("/posts", {"text": "stalled", "idempotency_key": "t-1"}).status_code == 504
    assert time.monotonic() - started >= 0.2
    assert not SandboxPost.objects.filter(idempotency_key="t-1").exists()
    assert api.post("/posts", {"text": "stalled", "idempotency_key": "t-2"}).status_code == 504
    assert SandboxPost.objects.filter(idempotency_key="t-2").exists()


def test_error_rates_are_drawn_deterministically(api):
    api.send("PUT", "/faults", {"server_error": 0.5})
    statuses = [api.get("/me").status_code for _ in range(40)]
    assert 8 < statuses.count(503) < 32
    assert set(statuses) == {200, 503}
    # Control endpoints are never faulted, so faults can always be turned off.
    assert all(api.get("/faults").status_code == 200 for _ in range(10))
    api.send("PUT", "/faults", {})
    assert all(api.get("/me").status_code == 200 for _ in range(10))


def test_latency_is_added(api):
    api.send("PATCH", "/faults", {"latency_ms": 150})
    started = time.monotonic()
    api.get("/me")
    assert time.monotonic() - started >= 0.15


def test_posting_limits_per_account(api, monkeypatch):
    clock = install_clock(monkeypatch)
    api.send("PUT", "/faults", {"publish_limits": [[2, 900]]})
    first = api.post("/posts", {"text": "one"})
    assert first["X-RateLimit-Limit"] == "2" and first["X-RateLimit-Remaining"] == "1"
    assert api.post("/posts", {"text": "two", "idempotency_key": "two"}).status_code == 201
    clock.pass_time(seconds=60)
    refused = api.post("/posts", {"text": "three"})
    assert refused.status_code == 429
    assert 830 <= int(refused["Retry-After"]) <= 840  # when the first post leaves the window
    assert "Posting limit" in refused.json()["error"]["message"]
    # A replay of a post already made is not a new post, so it is not refused.
    assert api.post("/posts", {"text": "two", "idempotency_key": "two"}).status_code == 200
    clock.pass_time(seconds=900)
    assert api.post("/posts", {"text": "four"}).status_code == 201


def test_x_like_accounts_have_x_posting_limits(api, monkeypatch):
    install_clock(monkeypatch)
    account = actions.authenticate(api.token)
    assert account is not None
    rules = actions.publish_rules(account)
    assert [(r.limit, r.window_seconds) for r in rules] == [(50, 900), (300, 10800)]
    for n in range(50):
        assert api.post("/posts", {"text": f"post {n}"}).status_code == 201
    limited = api.post("/posts", {"text": "one too many"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


def test_request_limit_per_account(api, monkeypatch):
    clock = install_clock(monkeypatch)
    api.send("PUT", "/faults", {"request_limit": [3, 60]})
    statuses = [api.get("/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    clock.pass_time(seconds=61)
    assert api.get("/me").status_code == 200


def test_fault_settings_are_validated():
    account = new_account().account
    with pytest.raises(InvalidInput):
        actions.set_faults(account, {"server_error": 2})
    with pytest.raises(InvalidInput):
        actions.set_faults(account, {"explode": True})
    with pytest.raises(InvalidInput):
        actions.set_faults(account, {"fail_next": ["kaboom"]})
    with pytest.raises(InvalidInput):
        actions.set_faults(account, {"server_error": 0.6, "timeout": 0.6})
    with pytest.raises(InvalidInput):
        actions.set_faults(account, {"publish_limits": [[0, 10]]})
    saved = actions.set_faults(account, {"server_error": 0.1, "retry_after": 5})
    assert saved["server_error"] == 0.1 and saved["retry_after"] == 5
    merged = actions.set_faults(account, {"latency_ms": 10}, merge=True)
    assert merged["server_error"] == 0.1 and merged["latency_ms"] == 10
    assert actions.set_faults(account, {})["server_error"] == 0.0
