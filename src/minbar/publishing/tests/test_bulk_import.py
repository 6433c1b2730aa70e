"""Bulk CSV import: a thousand rows in one go, or nothing and a list of what to fix."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.channels.models import Channel
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.publishing import bulk
from minbar.publishing.models import Post, PostState
from minbar.workspaces.access import access_for


@pytest.fixture
def channels(world):
    for handle in ("@acme", "@acme_fb"):
        Channel.objects.create(
            workspace=world.acme,
            network="fakenet",
            remote_id=handle,
            handle=handle,
            server_url="https://fake.example",
        )


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(bulk.COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_thousand_rows_import_at_once(world, channels):
    rows = [
        {
            "text": f"Post {i}",
            "channels": "@acme|@acme_fb",
            "publish_at": f"2031-01-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d}",
            "tags": "bulk|winter",
        }
        for i in range(1000)
    ]
    created = bulk.import_csv(
        Actor(user=world.alice), access_for(world.alice, "acme"), _csv(rows), "Asia/Riyadh"
    )
    assert len(created) == 1000 == Post.objects.count()
    assert Post.objects.filter(state=PostState.SCHEDULED).count() == 1000
    assert sorted(created[0].tags) == ["bulk", "winter"]


def test_problems_are_listed_by_row_and_column_and_nothing_is_imported(world, channels):
    data = _csv(
        [
            {"text": "Fine", "channels": "@acme"},
            {"text": "x" * 101, "channels": "@acme"},
            {"text": "Who?", "channels": "@nobody"},
            {"text": "When?", "channels": "@acme", "publish_at": "next tuesday"},
            {"text": "Skipped hour", "channels": "@acme", "publish_at": "2031-03-30 01:30"},
        ]
    )
    with pytest.raises(bulk.ImportRejected) as exc:
        bulk.import_csv(
            Actor(user=world.alice), access_for(world.alice, "acme"), data, "Europe/London"
        )
    found = {(e.row, e.column) for e in exc.value.errors}
    assert found == {(3, "text"), (4, "channels"), (5, "publish_at"), (6, "publish_at")}
    messages = {e.row: e.message for e in exc.value.errors}
    assert messages[3] == "FakeNet: 101/100 characters"
    assert "No channel “@nobody”" in messages[4]
    assert "does not exist on 2031-03-30 in Europe/London" in messages[6]
    assert not Post.objects.exists()


def test_wrong_header_and_encoding_are_explained(world, channels):
    access = access_for(world.alice, "acme")
    with pytest.raises(Exception, match="missing: channels"):
        bulk.import_csv(Actor(user=world.alice), access, b"text\nhello\n", "UTC")
    with pytest.raises(Exception, match="not UTF-8"):
        bulk.import_csv(
            Actor(user=world.alice), access, "text,channels\nh\xe9,@acme\n".encode("latin-1"), "UTC"
        )


def test_import_page_lists_errors_and_offers_the_template(world, channels):
    client = Client()
    client.force_login(world.alice)
    template = client.get("/w/acme/publishing/import/?template=1")
    assert template["Content-Disposition"].endswith('minbar-posts-template.csv"')
    bad = SimpleUploadedFile("posts.csv", _csv([{"text": "Hi", "channels": "@ghost"}]))
    html = client.post("/w/acme/publishing/import/", {"file": bad}).content.decode()
    assert 'data-testid="import-errors"' in html and "@ghost" in html


def test_import_through_the_api(world, channels):
    secret = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    good = SimpleUploadedFile("posts.csv", _csv([{"text": "Hello", "channels": "@acme"}]))
    response = client.post("/api/v1/workspaces/acme/post-imports", {"file": good})
    assert response.status_code == 201 and response.json()["created"] == 1
    bad = SimpleUploadedFile("posts.csv", _csv([{"text": "Hello", "channels": "@ghost"}]))
    error = client.post("/api/v1/workspaces/acme/post-imports", {"file": bad}).json()["error"]
    assert error["fields"] == {"row 2 channels": "No channel “@ghost” in this workspace."}
