"""The library pages and file URLs, per persona: owner, editor, analyst, client, outsider."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user
from minbar.core.actor import Actor
from minbar.media import actions
from minbar.media.models import MediaAsset
from minbar.media.tests.conftest import fake_mp4, image_bytes, stored_files, upload
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _asset(world, name="a.jpg", data=None, **extra) -> MediaAsset:
    [outcome] = actions.upload(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        [upload(name, data or image_bytes())],
        **extra,
    )
    return outcome.asset


@pytest.fixture
def client_user(world):
    dora = make_user("dora")
    Membership.objects.create(user=dora, workspace=world.acme, role=Role.CLIENT)
    return dora


@pytest.fixture
def analyst(world):
    erin = make_user("erin")
    Membership.objects.create(user=erin, workspace=world.acme, role=Role.ANALYST)
    return erin


def test_owner_uploads_several_files_from_the_page(world):
    client = _client(world.alice)
    page = client.get("/w/acme/media/").content.decode()
    assert 'type="file"' in page and "multiple" in page and 'for="id_files"' in page
    response = client.post(
        "/w/acme/media/upload/",
        {
            "files": [upload("a.jpg", image_bytes()), upload("b.png", image_bytes("PNG"))],
            "folder": "Launch",
            "tags": "coffee, قهوة",
            "alt_text": "Our new roast",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/w/acme/media/"
    assert MediaAsset.objects.filter(workspace=world.acme, folder="Launch").count() == 2
    listing = client.get("/w/acme/media/").content.decode()
    assert "a.jpg was uploaded." in listing and "b.png was uploaded." in listing
    assert "Our new roast" in listing and "قهوة" in listing
    asset = MediaAsset.objects.get(original_filename="a.jpg")
    assert f"/w/acme/media/{asset.pk}/thumbnail/" in listing


def test_htmx_upload_lists_each_file_and_refreshes_the_grid(world):
    client = _client(world.bob)
    data = image_bytes()
    _asset(world, "first.jpg", data)
    response = client.post(
        "/w/acme/media/upload/",
        {"files": [upload("again.jpg", data), upload("new.png", image_bytes("PNG"))]},
        headers={"HX-Request": "true", "HX-Target": "upload-results"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "mediaUploaded"
    assert "<bdi>again.jpg</bdi> is already in the library as" in body and "first.jpg" in body
    assert "new.png</bdi></a> was uploaded." in body


def test_htmx_upload_errors_name_each_file_and_nothing_is_saved(world, media_root):
    response = _client(world.alice).post(
        "/w/acme/media/upload/",
        {
            "files": [
                upload(
                    "photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 9
                ),
                upload("ok.jpg", image_bytes()),
            ]
        },
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "photo.heic: HEIC images are not supported; export as JPEG or PNG." in body
    assert "ok.jpg: can be used, but was not saved" in body
    assert 'role="alert"' in body
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_plain_upload_error_shows_the_page_again(world):
    response = _client(world.alice).post(
        "/w/acme/media/upload/", {"files": [upload("notes.png", b"not a picture")]}
    )
    assert response.status_code == 422
    assert (
        "notes.png: this is not an image, a video or a document Minbar can read"
        in response.content.decode()
    )


def test_filters_and_search(world):
    _asset(world, "beans.jpg", image_bytes(color=(1, 1, 1)), folder="Shop/Beans", tags="coffee")
    _asset(world, "cup.png", image_bytes("PNG"), alt_text="فنجان قهوة", tags="Cups")
    _asset(world, "clip.mp4", fake_mp4())
    client = _client(world.alice)

    def names(query: str) -> set[str]:
        html = client.get("/w/acme/media/?" + query).content.decode()
        return {n for n in ("beans.jpg", "cup.png", "clip.mp4") if f"<bdi>{n}</bdi>" in html}

    assert names("") == {"beans.jpg", "cup.png", "clip.mp4"}
    assert names("folder=Shop") == {"beans.jpg"}
    assert names("tag=cups") == {"cup.png"}
    assert names("kind=video") == {"clip.mp4"}
    assert names("q=%D9%82%D9%87%D9%88%D8%A9") == {"cup.png"}  # قهوة in the alt text
    assert names("q=BEANS") == {"beans.jpg"}
    partial = client.get(
        "/w/acme/media/?kind=image", headers={"HX-Request": "true", "HX-Target": "media-results"}
    )
    assert "<h1>" not in partial.content.decode() and "2 files" in partial.content.decode()


def test_inline_edit_with_htmx_returns_the_card(world):
    asset = _asset(world)
    response = _client(world.bob).post(
        f"/w/acme/media/{asset.pk}/edit/",
        {"alt_text": "كوب أحمر", "folder": "Red", "tags": "red, mug"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="asset-{asset.pk}"' in body and "كوب أحمر" in body and "Saved." in body
    asset.refresh_from_db()
    assert (asset.alt_text, asset.folder, asset.tags) == ("كوب أحمر", "Red", ["red", "mug"])
    too_long = _client(world.bob).post(
        f"/w/acme/media/{asset.pk}/edit/",
        {"alt_text": "x" * 2001, "view": "detail"},
        headers={"HX-Request": "true"},
    )
    assert "Ensure this value has at most 2000 characters" in too_long.content.decode()


def test_plain_edit_goes_back_where_it_came_from(world):
    asset = _asset(world)
    response = _client(world.alice).post(
        f"/w/acme/media/{asset.pk}/edit/",
        {"alt_text": "Red", "folder": "", "tags": "", "next": "/w/acme/media/?kind=image"},
    )
    assert response["Location"] == "/w/acme/media/?kind=image"
    evil = _client(world.alice).post(
        f"/w/acme/media/{asset.pk}/edit/",
        {"alt_text": "Red", "next": "https://evil.example/"},
    )
    assert evil["Location"] == f"/w/acme/media/{asset.pk}/"


def test_detail_page_shows_the_file_and_how_it_fits_each_channel(world):
    from minbar.channels.models import Channel
    from minbar.connectors.types import Credentials

    asset = _asset(world, "story.png", image_bytes("PNG", size=(90, 160)))
    channel = Channel(workspace=world.acme, network="sandbox", remote_id="1", handle="acme.ig")
    channel.set_credentials(
        Credentials(secrets={"access_token": "t"}, data={"flavour": "instagram"})
    )
    channel.save()
    page = _client(world.alice).get(f"/w/acme/media/{asset.pk}/").content.decode()
    assert f'src="/w/acme/media/{asset.pk}/file/"' in page
    assert "90 \u00d7 160" in page and "No alt text" in page
    assert "this image is 9:16 — Minbar will pad it." in page


def test_delete_asks_first_then_removes_the_files(
    world, media_root, django_capture_on_commit_callbacks
):
    asset = _asset(world)
    client = _client(world.alice)
    confirm = client.get(f"/w/acme/media/{asset.pk}/delete/")
    assert "Delete <bdi>a.jpg</bdi>?" in confirm.content.decode()
    assert MediaAsset.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/w/acme/media/{asset.pk}/delete/")
    assert response["Location"] == "/w/acme/media/"
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_files_are_served_with_their_sniffed_type_and_privately(world):
    asset = _asset(world, "photo.jpg", image_bytes("PNG"))
    client = _client(world.bob)
    response = client.get(f"/w/acme/media/{asset.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.getvalue().startswith(b"\x89PNG")
    download = client.get(f"/w/acme/media/{asset.pk}/file/?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="photo.png"'
    thumb = client.get(f"/w/acme/media/{asset.pk}/thumbnail/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    # Nothing is public under MEDIA_URL.
    assert client.get(f"/media/{asset.file.name}").status_code == 404


def test_outsiders_get_404_everywhere_even_for_file_urls(world):
    asset = _asset(world)
    charlie = _client(world.charlie)
    for url in (
        "/w/acme/media/",
        f"/w/acme/media/{asset.pk}/",
        f"/w/acme/media/{asset.pk}/file/",
        f"/w/acme/media/{asset.pk}/thumbnail/",
        f"/w/acme/media/{asset.pk}/delete/",
    ):
        assert charlie.get(url).status_code == 404, url
    assert charlie.post(f"/w/acme/media/{asset.pk}/edit/", {"alt_text": "x"}).status_code == 404
    # Their own workspace does not reach acme's files either.
    assert charlie.get(f"/w/globex/media/{asset.pk}/file/").status_code == 404
    assert charlie.get("/w/globex/media/").status_code == 200
    anonymous = Client().get(f"/w/acme/media/{asset.pk}/file/")
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]


def test_clients_cannot_see_the_library(world, client_user):
    asset = _asset(world)
    client = _client(client_user)
    assert client.get("/w/acme/media/").status_code == 403
    assert client.get(f"/w/acme/media/{asset.pk}/file/").status_code == 403
    assert client.get(f"/w/acme/media/{asset.pk}/thumbnail/").status_code == 403


def test_analysts_view_but_cannot_change(world, analyst):
    asset = _asset(world)
    client = _client(analyst)
    page = client.get("/w/acme/media/").content.decode()
    assert "a.jpg" in page and 'type="file"' not in page and "Edit details" not in page
    assert client.get(f"/w/acme/media/{asset.pk}/file/").status_code == 200
    assert (
        client.post(
            "/w/acme/media/upload/", {"files": [upload("b.jpg", image_bytes())]}
        ).status_code
        == 403
    )
    assert client.post(f"/w/acme/media/{asset.pk}/edit/", {"alt_text": "x"}).status_code == 403
    assert client.post(f"/w/acme/media/{asset.pk}/delete/").status_code == 403


def test_the_page_reads_in_arabic(world):
    client = _client(world.alice)
    _asset(world, alt_text="فنجان")
    response = client.get("/w/acme/media/", headers={"Accept-Language": "ar"})
    assert response.status_code == 200
    assert 'dir="auto">فنجان' in response.content.decode()


def test_files_answer_range_requests_so_videos_can_be_sought():
    from minbar.media import ranges

    assert ranges.parse(None, 100) is None
    assert ranges.parse("bytes=0-9", 100) == (0, 9)
    assert ranges.parse("bytes=90-", 100) == (90, 99)
    assert ranges.parse("bytes=-10", 100) == (90, 99)
    assert ranges.parse("bytes=95-200", 100) == (95, 99)
    assert ranges.parse("bytes=100-", 100) is False
    assert ranges.parse("bytes=0-1,5-6", 100) is None  # several ranges: the whole file


def test_a_range_of_a_file_is_a_206_and_past_the_end_a_416(world):
    data = image_bytes("PNG")
    asset = _asset(world, "photo.png", data)
    client = _client(world.bob)
    whole = client.get(f"/w/acme/media/{asset.pk}/file/")
    assert whole["Accept-Ranges"] == "bytes"
    body = whole.getvalue()
    part = client.get(f"/w/acme/media/{asset.pk}/file/", HTTP_RANGE="bytes=0-7")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 0-7/{len(body)}"
    assert b"".join(part.streaming_content) == body[:8]  # type: ignore[attr-defined]
    tail = client.get(f"/w/acme/media/{asset.pk}/file/", HTTP_RANGE="bytes=-4")
    assert b"".join(tail.streaming_content) == body[-4:]  # type: ignore[attr-defined]
    past = client.get(f"/w/acme/media/{asset.pk}/file/", HTTP_RANGE=f"bytes={len(body)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(body)}"
    assert (
        _client(world.charlie)
        .get(f"/w/acme/media/{asset.pk}/file/", HTTP_RANGE="bytes=0-7")
        .status_code
        == 404
    )
