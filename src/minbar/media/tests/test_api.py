"""The media API: the same rules as the pages, with multipart uploads."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user
from minbar.accounts.actions import create_api_token
from minbar.core.actor import Actor
from minbar.media.models import MediaAsset
from minbar.media.tests.conftest import image_bytes, upload
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role


@pytest.fixture
def api(world):
    def client_for(user, workspace=None, role=None):
        workspace = workspace or (world.globex if user == world.charlie else world.acme)
        secret = create_api_token(Actor.system(), user, workspace, name="t", role=role).secret
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return client_for


def test_upload_list_get_update_download_and_delete(world, api, django_capture_on_commit_callbacks):
    client = api(world.bob)
    created = client.post(
        "/api/v1/workspaces/acme/media",
        {
            "files": [upload("a.jpg", image_bytes()), upload("b.jpg", image_bytes("PNG"))],
            "folder": "Launch/Teasers",
            "tags": "coffee, قهوة",
            "alt_text": "A red square",
        },
    )
    assert created.status_code == 201, created.content
    items = created.json()["items"]
    assert [(i["filename"], i["created"]) for i in items] == [("a.jpg", True), ("b.jpg", True)]
    first = items[0]["asset"]
    assert first["mime_type"] == "image/jpeg" and items[1]["asset"]["mime_type"] == "image/png"
    assert first["folder"] == "Launch/Teasers" and first["tags"] == ["coffee", "قهوة"]
    assert first["uploaded_by"] == "bob" and first["width"] == 64
    assert first["file_url"] == f"/api/v1/workspaces/acme/media/{first['id']}/file"

    again = client.post(
        "/api/v1/workspaces/acme/media", {"files": [upload("c.jpg", image_bytes())]}
    )
    assert again.status_code == 200 and again.json()["items"][0]["created"] is False

    listed = client.get("/api/v1/workspaces/acme/media?folder=Launch&per_page=1").json()
    assert listed["count"] == 2 and listed["pages"] == 2 and len(listed["items"]) == 1
    assert (
        client.get("/api/v1/workspaces/acme/media?tag=%D9%82%D9%87%D9%88%D8%A9").json()["count"]
        == 2
    )
    assert client.get("/api/v1/workspaces/acme/media?kind=video").json()["count"] == 0
    assert client.get("/api/v1/workspaces/acme/media?q=b.jpg").json()["count"] == 1

    got = client.get(f"/api/v1/workspaces/acme/media/{first['id']}")
    assert got.status_code == 200 and got.json()["sha256"] == first["sha256"]

    patched = client.patch(
        f"/api/v1/workspaces/acme/media/{first['id']}",
        {"alt_text": "مربع أحمر", "tags": ["red"]},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert patched.json()["alt_text"] == "مربع أحمر" and patched.json()["tags"] == ["red"]
    assert patched.json()["folder"] == "Launch/Teasers"

    download = client.get(first["file_url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert download["Content-Disposition"] == 'attachment; filename="a.jpg"'
    assert client.get(first["thumbnail_url"]).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(f"/api/v1/workspaces/acme/media/{first['id']}")
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/workspaces/acme/media/{first['id']}").status_code == 404
    assert MediaAsset.objects.count() == 1


def test_a_bad_file_is_a_422_naming_it_and_nothing_is_saved(world, api):
    response = api(world.alice).post(
        "/api/v1/workspaces/acme/media",
        {"files": [upload("ok.jpg", image_bytes()), upload("notes.png", b"hello there")]},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["notes.png"].startswith("notes.png: this is not an image")
    assert not MediaAsset.objects.exists()


def test_bad_update_names_the_field(world, api):
    client = api(world.alice)
    asset_id = client.post(
        "/api/v1/workspaces/acme/media", {"files": [upload("a.jpg", image_bytes())]}
    ).json()["items"][0]["asset"]["id"]
    response = client.patch(
        f"/api/v1/workspaces/acme/media/{asset_id}",
        {"tags": ["x" * 41]},
        content_type="application/json",
    )
    assert response.status_code == 422 and "tags" in response.json()["error"]["fields"]


def test_permissions(world, api):
    alice = api(world.alice)
    asset_id = alice.post(
        "/api/v1/workspaces/acme/media", {"files": [upload("a.jpg", image_bytes())]}
    ).json()["items"][0]["asset"]["id"]

    dora = make_user("dora")
    Membership.objects.create(user=dora, workspace=world.acme, role=Role.CLIENT)
    client_role = api(dora)
    assert client_role.get("/api/v1/workspaces/acme/media").status_code == 403
    assert client_role.get(f"/api/v1/workspaces/acme/media/{asset_id}").status_code == 404
    assert client_role.get(f"/api/v1/workspaces/acme/media/{asset_id}/file").status_code == 404

    # A token capped at analyst reads but cannot change.
    read_only = api(world.alice, role=Role.ANALYST)
    assert read_only.get("/api/v1/workspaces/acme/media").json()["count"] == 1
    refused = read_only.post(
        "/api/v1/workspaces/acme/media", {"files": [upload("b.jpg", image_bytes())]}
    )
    assert refused.status_code == 403
    assert read_only.delete(f"/api/v1/workspaces/acme/media/{asset_id}").status_code == 403

    outsider = api(world.charlie)
    for url in (
        "/api/v1/workspaces/acme/media",
        f"/api/v1/workspaces/acme/media/{asset_id}",
        f"/api/v1/workspaces/acme/media/{asset_id}/file",
        f"/api/v1/workspaces/acme/media/{asset_id}/thumbnail",
    ):
        assert outsider.get(url).status_code == 404, url
    # Charlie's own workspace does not reach acme's asset by id.
    assert outsider.get(f"/api/v1/workspaces/globex/media/{asset_id}").status_code == 404
    assert outsider.delete(f"/api/v1/workspaces/acme/media/{asset_id}").status_code == 404
    # Whatever the body, an outsider learns nothing, not even which fields are missing.
    for body in ({}, {"alt_text": "x"}):
        assert (
            outsider.post(
                "/api/v1/workspaces/acme/media", body, content_type="application/json"
            ).status_code
            == 404
        )
        assert (
            outsider.patch(
                f"/api/v1/workspaces/acme/media/{asset_id}", body, content_type="application/json"
            ).status_code
            == 404
        )
    no_files = alice.post("/api/v1/workspaces/acme/media", {"folder": "x"})
    assert no_files.status_code == 422 and no_files.json()["error"]["fields"] == {
        "files": "Required."
    }
    # A token for globex cannot be used on acme even by a member of both.
    Membership.objects.create(user=world.charlie, workspace=world.acme, role=Role.EDITOR)
    assert (
        api(world.charlie, workspace=world.globex).get("/api/v1/workspaces/acme/media").status_code
        == 404
    )
    assert MediaAsset.objects.count() == 1
