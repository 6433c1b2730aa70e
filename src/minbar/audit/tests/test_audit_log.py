"""The audit log: complete, scoped to the workspace, readable and exportable."""

from __future__ import annotations

import csv
import io

from django.test import Client

from conftest import PASSWORD
from minbar.audit.actions import record
from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor


def _events_page(client: Client, query: str = "") -> str:
    return client.get(f"/w/acme/audit/{query}").content.decode()


def test_owner_sees_team_sign_ins_and_failures_but_not_outsiders(world):
    Client().post(
        "/accounts/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    Client().post("/accounts/login/", {"username": "bob", "password": "nope"})
    Client().post("/accounts/login/", {"username": "charlie", "password": PASSWORD})
    owner = Client()
    owner.force_login(world.alice)
    html = _events_page(owner)
    assert "203.0.113.7" in html
    assert "Failed sign-in" in html
    assert "charlie" not in html


def test_other_workspaces_events_never_appear(world):
    record(
        Actor(user=world.charlie),
        "workspace.updated",
        workspace=world.globex,
        target_label="globex-private",
    )
    owner = Client()
    owner.force_login(world.alice)
    assert "globex-private" not in _events_page(owner)


def test_filters_and_a_clear_error_for_a_bad_date(world):
    record(Actor(user=world.alice), "workspace.updated", workspace=world.acme)
    record(Actor(user=world.bob), "member.invited", workspace=world.acme, target_label="x@y.z")
    owner = Client()
    owner.force_login(world.alice)
    only_invites = _events_page(owner, "?action=member.invited").split("<tbody>", 1)[1]
    assert "x@y.z" in only_invites and "Updated workspace settings" not in only_invites
    bad = _events_page(owner, "?since=yesterday")
    assert "Use a date like 2026-01-31." in bad


def test_csv_export_has_every_column_in_utc_and_is_itself_audited(world):
    record(
        Actor(user=world.bob, ip="198.51.100.4", user_agent="Firefox"),
        "member.invited",
        workspace=world.acme,
        target_label="new@example.com",
        data={"role": "editor"},
    )
    owner = Client()
    owner.force_login(world.alice)
    response = owner.get("/w/acme/audit.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit-acme-' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    invite = next(r for r in rows if r["action"] == "member.invited")
    assert invite["actor"] == "bob" and invite["ip_address"] == "198.51.100.4"
    assert invite["target"] == "new@example.com" and invite["time_utc"].endswith("+00:00")
    assert AuditEvent.objects.filter(action="audit.exported", actor=world.alice).exists()


def test_api_rejects_a_bad_since_with_the_field_named(world):
    from minbar.accounts.actions import create_api_token

    secret = create_api_token(Actor.system(), world.alice, world.acme, name="a").secret
    response = Client().get(
        "/api/v1/workspaces/acme/audit-events?since=soon",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"since": "Use a date like 2026-01-31."}
