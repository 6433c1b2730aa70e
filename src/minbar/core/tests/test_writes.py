"""Write transactions shared by threads (``minbar.core.writes.grouped_write``)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections, transaction

from minbar.core.writes import grouped_write
from minbar.workspaces.models import Organization


def _make(name: str) -> int:
    return int(Organization.objects.create(name=name, slug=name).pk)


def _in_thread(work: Any, results: dict[str, Any], name: str) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = grouped_write(work)
        except Exception as exc:
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_writes_from_many_threads_all_commit_and_each_gets_its_own_result() -> None:
    results: dict[str, Any] = {}
    threads = [_in_thread(lambda n=n: _make(f"org-{n}"), results, f"org-{n}") for n in range(8)]
    for thread in threads:
        thread.join()
    made = dict(Organization.objects.values_list("slug", "pk"))
    assert results == made
    assert len(made) == 8


@pytest.mark.django_db(transaction=True)
def test_a_failing_write_is_undone_alone_and_fails_in_its_own_thread() -> None:
    leading, release = threading.Event(), threading.Event()

    def first() -> int:
        leading.set()
        release.wait(10)  # the others queue up meanwhile: they are written together
        return _make("first")

    def failing() -> int:
        _make("failing")
        raise ValueError("refused")

    results: dict[str, Any] = {}
    threads = [_in_thread(first, results, "first")]
    assert leading.wait(10)
    threads += [
        _in_thread(failing, results, "failing"),
        _in_thread(lambda: _make("after"), results, "after"),
    ]
    release.set()
    for thread in threads:
        thread.join()
    assert isinstance(results["failing"], ValueError)
    assert set(Organization.objects.values_list("slug", flat=True)) == {"first", "after"}
    assert results["after"] == Organization.objects.get(slug="after").pk


@pytest.mark.django_db
def test_inside_a_transaction_the_write_is_part_of_it() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        grouped_write(lambda: _make("inner"))
        assert Organization.objects.filter(slug="inner").exists()
        raise RuntimeError("roll back")
    assert not Organization.objects.filter(slug="inner").exists()
