"""Two workers claiming the same outbox never send one delivery twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from minbar.webhooks import delivery
from minbar.webhooks.events import emit
from minbar.webhooks.models import DeliveryState, WebhookDelivery
from minbar.webhooks.tests.helpers import make_endpoint

DELIVERIES = 120


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_delivery(world, monkeypatch):
    """Two threads at once on PostgreSQL (SKIP LOCKED). SQLite serialises writers, so
    there the race is staged: the second worker works from a stale list that still
    holds the first one's deliveries, and the conditional UPDATE must refuse them."""
    # Committed events would kick the (immediate, in tests) queue and be sent at once.
    monkeypatch.setattr(delivery, "kick", lambda: None)
    make_endpoint(world, "http://127.0.0.1:9/unused")
    for n in range(DELIVERIES):
        emit(world.acme, "post.failed", {"n": n})
    assert WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count() == DELIVERIES
    start = threading.Barrier(2)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        mine: list[int] = []
        try:
            start.wait(timeout=10)
            while batch := delivery.claim(worker, 7):
                mine.extend(d.pk for d in batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            claimed[worker] = mine
            connection.close()

    if connection.vendor == "sqlite":
        claimed["w0"] = [d.pk for d in delivery.claim("w0", 7)]
        stale = WebhookDelivery.objects.order_by("pk")
        monkeypatch.setattr(delivery, "due", lambda moment: stale)
        claimed["w1"] = [d.pk for d in delivery.claim("w1", DELIVERIES)]
    else:
        threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    counts = Counter(pk for mine in claimed.values() for pk in mine)
    assert len(counts) == DELIVERIES and set(counts.values()) == {1}
    assert all(claimed.values()), "both workers should have claimed some"
