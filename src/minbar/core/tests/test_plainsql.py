"""core.plainsql makes the rows and instances the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from minbar.channels.models import Channel
from minbar.connectors.types import Credentials
from minbar.core import plainsql
from minbar.sandbox import actions
from minbar.sandbox.models import EventKind, SandboxAccount, SandboxEvent, SandboxPost

pytestmark = pytest.mark.django_db


def _account() -> SandboxAccount:
    return actions.create_account(flavour="x", name="Plain", audience_size=30, speed=0).account


def _field_values(instance: Model, model: type[Model]) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}


def test_instances_equal_what_a_queryset_makes_with_dates_json_and_booleans():
    account = _account()
    account.faults = {"latency_ms": 7, "fail_next": ["ok"]}
    account.request_window_start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    account.save()
    event = SandboxEvent.objects.create(
        account=account, kind=EventKind.LIKE, due_ms=5, hidden=True, rating=None
    )

    [made] = plainsql.instances(SandboxAccount, "id = %s", [account.pk])
    assert _field_values(made, SandboxAccount) == _field_values(
        SandboxAccount.objects.get(pk=account.pk), SandboxAccount
    )
    assert made.faults == {"latency_ms": 7, "fail_next": ["ok"]}
    assert made.request_window_start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert made.created_at.tzinfo is not None
    assert not made._state.adding and made._state.db == "default"

    [read] = plainsql.instances(SandboxEvent, "id = %s", [event.pk])
    assert read.hidden is True and read.rating is None and read.deleted_at is None


def test_select_converts_the_chosen_columns_and_compares_datetimes_as_the_orm_does():
    account = _account()
    early = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for n, created in enumerate([early, early + timedelta(seconds=1)]):
        SandboxPost.objects.create(
            account=account, number=n + 1, created_at=created, published_sim_ms=0
        )
    rows = plainsql.select(
        SandboxPost,
        "account_id = %s AND created_at > %s ORDER BY id",
        [account.pk, plainsql.param(SandboxPost, "created_at", early)],
        fields=("number", "created_at", "topics"),
    )
    assert rows == [[2, early + timedelta(seconds=1), []]]


def test_insert_sets_the_pk_applies_defaults_and_keeps_unique_constraints():
    account = _account()
    post = SandboxPost(account=account, number=1, text="سلام", published_sim_ms=3, urls=["u"])
    plainsql.insert(post)
    assert post.pk is not None and not post._state.adding
    stored = SandboxPost.objects.get(pk=post.pk)
    assert (stored.text, stored.urls, stored.visibility) == ("سلام", ["u"], "public")
    assert stored.created_at == post.created_at

    twin = SandboxPost(account=account, number=1, published_sim_ms=3)  # same number again
    with pytest.raises(IntegrityError), transaction.atomic():
        plainsql.insert(twin)


def test_insert_many_writes_every_row_in_one_statement():
    account = _account()
    events = [SandboxEvent(account=account, kind=EventKind.LIKE, due_ms=n) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        plainsql.insert_many(events)
    assert len(queries) == 1
    plainsql.insert_many([])  # nothing to write is not an error
    # Both SQLite (3.35+) and PostgreSQL return the new keys, in the rows' order.
    assert [SandboxEvent.objects.get(pk=e.pk).due_ms for e in events] == [0, 1, 2]
    assert sorted(
        SandboxEvent.objects.filter(account=account, kind=EventKind.LIKE).values_list(
            "due_ms", flat=True
        )
    ) == [0, 1, 2]


def test_update_writes_only_the_named_fields():
    account = _account()
    account.request_count, account.faults, account.name = 41, {"retry_after": 9}, "Not saved"
    assert plainsql.update(account, ("request_count", "faults")) == 1
    stored = SandboxAccount.objects.get(pk=account.pk)
    assert stored.request_count == 41 and stored.faults == {"retry_after": 9}
    assert stored.name == "Plain"


def test_deferred_fields_are_read_on_first_use(world):
    channel = Channel(workspace=world.acme, network="sandbox", remote_id="a1", handle="@a")
    channel.set_credentials(Credentials(secrets={"access_token": "sbx_secret"}))
    channel.save()
    [made] = plainsql.instances(Channel, "id = %s", [channel.pk], defer=("credentials_blob",))
    assert "credentials_blob" in made.get_deferred_fields()
    assert made.get_credentials().secrets == {"access_token": "sbx_secret"}


def test_update_many_sets_each_rows_own_values_in_one_statement():
    first, second, third = _account(), _account(), _account()
    untouched_name = third.name
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    first.request_count, second.request_count = 5, 6
    first.faults, second.faults = {"latency_ms": 1}, {"fail_next": ["ok"]}
    first.request_window_start, second.request_window_start = moment, None
    first.webhook_url = second.webhook_url = "https://example.test/hook"
    first.name, second.name = "Not saved", "Not saved either"
    with CaptureQueriesContext(connection) as queries:
        changed = plainsql.update_many(
            [first, second],
            ("request_count", "faults", "request_window_start", "webhook_url"),
        )
    assert changed == 2 and len(queries) == 1
    one, two = (SandboxAccount.objects.get(pk=a.pk) for a in (first, second))
    assert (one.request_count, one.faults, one.request_window_start) == (
        5,
        {"latency_ms": 1},
        moment,
    )
    assert (two.request_count, two.faults, two.request_window_start) == (
        6,
        {"fail_next": ["ok"]},
        None,
    )
    assert one.webhook_url == two.webhook_url == "https://example.test/hook"
    assert one.name == two.name == "Plain"
    assert SandboxAccount.objects.get(pk=third.pk).name == untouched_name
    assert plainsql.update_many([], ("name",)) == 0


def test_placeholders_and_table_names_for_hand_written_sql():
    assert plainsql.placeholders([1, 2, 3]) == "%s, %s, %s"
    assert "sandbox" in plainsql.table(SandboxPost)
