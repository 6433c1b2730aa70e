"""Publishing requests that arrive together: written in one transaction, each as if alone."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connections

from minbar.core import writes
from minbar.core.writes import grouped_write
from minbar.sandbox import actions
from minbar.sandbox.models import SandboxAccount, SandboxEvent, SandboxPost
from minbar.sandbox.tests.helpers import Api, new_account

pytestmark = pytest.mark.django_db(transaction=True)


def _requests_together(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send every (token, body) from its own thread while a write holds the group's turn.

    They queue behind it, so on SQLite the next thread to write takes them all in
    one transaction; elsewhere they simply run side by side.
    """
    leading, release = threading.Event(), threading.Event()

    def wait_for_release() -> bool:
        leading.set()
        return release.wait(10)

    def hold() -> None:
        try:
            grouped_write(wait_for_release)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert leading.wait(10)
    answers: list[Any] = [None] * len(calls)

    def send(n: int, token: str, body: dict[str, Any]) -> None:
        try:
            answers[n] = Api(token).post("/posts", body)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(n, token, body))
        for n, (token, body) in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    if connections["default"].vendor == "sqlite":
        # Every request waits behind the holder before it lets go: one group.
        waiting = writes._group("default")
        deadline = time.monotonic() + 30
        while len(waiting.pending) < len(calls) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(waiting.pending) == len(calls)
    release.set()
    for thread in [holder, *threads]:
        thread.join()
    return answers


def test_requests_written_together_keep_idempotency_limits_and_counts() -> None:
    plain = new_account(flavour="x", name="Plain")
    limited = new_account(flavour="x", name="Limited")
    actions.set_faults(limited.account, {"publish_limits": [[2, 900]]})
    calls = [
        (plain.token, {"text": "Once", "idempotency_key": "same"}),
        (plain.token, {"text": "Once", "idempotency_key": "same"}),
        (plain.token, {"text": "Another", "idempotency_key": "other"}),
        *[(limited.token, {"text": f"Limited {n}", "idempotency_key": f"l{n}"}) for n in range(3)],
    ]
    answers = _requests_together(calls)

    same = [
        a for a, (_, body) in zip(answers, calls, strict=True) if body["idempotency_key"] == "same"
    ]
    assert sorted(a.status_code for a in same) == [200, 201]
    assert same[0].json()["id"] == same[1].json()["id"]
    assert SandboxPost.objects.filter(account=plain.account).count() == 2
    assert SandboxPost.objects.filter(account=plain.account, idempotency_key="same").count() == 1

    limited_answers = sorted(a.status_code for a in answers[3:])
    assert limited_answers == [201, 201, 429]
    assert SandboxPost.objects.filter(account=limited.account).count() == 2

    counts = dict(SandboxAccount.objects.values_list("pk", "request_count"))
    assert counts[plain.account.pk] == 3 and counts[limited.account.pk] == 3
    numbers = sorted(
        SandboxPost.objects.filter(account=plain.account).values_list("number", flat=True)
    )
    assert numbers == [1, 2]
    for post in SandboxPost.objects.all():
        assert SandboxEvent.objects.filter(post=post).count() == post.simulated


def test_a_refused_post_among_others_is_refused_alone() -> None:
    account = new_account(flavour="x", name="Mixed")
    answers = _requests_together(
        [
            (account.token, {"text": "Fine", "idempotency_key": "a"}),
            (account.token, {"text": "x" * 281, "idempotency_key": "b"}),
            (account.token, {"text": "Also fine", "idempotency_key": "c"}),
        ]
    )
    assert [a.status_code for a in answers] == [201, 422, 201]
    assert set(
        SandboxPost.objects.filter(account=account.account).values_list(
            "idempotency_key", flat=True
        )
    ) == {"a", "c"}
    assert SandboxAccount.objects.get(pk=account.account.pk).request_count == 3
