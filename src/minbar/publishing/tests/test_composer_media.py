"""The composer with media: picking, uploading, and previews shaped like each network."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from conftest import make_user
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.media import actions as media_actions
from minbar.media.models import MediaAsset
from minbar.media.tests.conftest import (  # noqa: F401 - autouse fixtures
    image_bytes,
    media_root,
    no_ffmpeg,
    upload,
)
from minbar.publishing.actions import PostInput, create_post
from minbar.publishing.models import Post
from minbar.publishing.previews import rich_text
from minbar.publishing.target_media import MediaChoice
from minbar.publishing.tests.test_dispatcher_helpers import sandbox_channel
from minbar.sandbox.tests.helpers import route_sandbox_in_process
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership


@pytest.fixture
def sandbox(monkeypatch):
    route_sandbox_in_process(monkeypatch)


@pytest.fixture
def alice(world) -> Client:
    client = Client()
    client.force_login(world.alice)
    return client


def _asset(user, workspace: str, name: str, alt: str = "", **image) -> MediaAsset:
    [outcome] = media_actions.upload(
        Actor(user=user),
        access_for(user, workspace),
        [upload(name, image_bytes("PNG", **image))],
        alt_text=alt,
    )
    return outcome.asset


def _articles(html: str) -> dict[str, str]:
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<article class="preview pv pv-(\w+)".*?</article>', html, re.S)
    }


def test_previews_take_each_networks_shape_with_rtl_text(world, sandbox, alice):
    channels = [
        sandbox_channel(world, "Acme X", "x"),
        sandbox_channel(world, "Acme FB", "facebook"),
        sandbox_channel(world, "Acme Insta", "instagram"),
    ]
    photos = [
        _asset(world.alice, "acme", f"p{i}.png", f"كوب {i}", color=(i, 9, 9)) for i in range(5)
    ]
    text = "قهوة جديدة اليوم #قهوة مع @acme على https://acme.example/roast " + "كلمة " * 100
    data = {
        "channels": [c.pk for c in channels],
        "text": text,
        "media": [p.pk for p in photos],
        "first_comment": "Links in bio",
        "when": "draft",
    }
    response = alice.post("/w/acme/publishing/check/", data)
    html = response.content.decode()
    articles = _articles(html)
    assert set(articles) == {"x", "facebook", "instagram"}
    x, fb, insta = articles["x"], articles["facebook"], articles["instagram"]
    # X-like: four tiles at most, "+1" on the last; the fifth image is a problem.
    assert "pv-grid-4" in x and "+1" in x and "at most 4 images; this post has 5" in x
    assert "First comment, as a reply" in x
    # Facebook-like: five tiles, "See more" after the cut; Instagram-like: a carousel.
    assert "pv-grid-5" in fb and "See more" in fb
    assert (
        "pv-carousel" in insta
        and len(re.findall(r'class="pv-dot( on)?"', insta)) == 5
        and "more" in insta
    )
    assert "will convert it to JPEG" in insta
    for article in articles.values():
        assert re.search(r'<p class="pv-text" dir="auto">', article)
        assert '<span class="pv-tag">#قهوة</span>' in article
        assert '<span class="pv-mention">@acme</span>' in article
        assert 'class="pv-link" dir="ltr">acme.example/roast</span>' in article
        assert re.search(r'<bdi dir="ltr">\d+/[\d,]+</bdi>', article)
        assert 'alt="كوب 0"' in article


def test_link_card_shows_when_there_is_no_media(world, sandbox, alice):
    x = sandbox_channel(world, "Acme X", "x")
    html = alice.post(
        "/w/acme/publishing/check/",
        {"channels": [x.pk], "text": "Read", "link": "https://www.acme.example/a", "when": "draft"},
    ).content.decode()
    assert 'class="pv-card"' in html and ">acme.example<" in html


def test_english_text_in_an_arabic_page_keeps_its_direction(world, sandbox, alice):
    x = sandbox_channel(world, "Acme X", "x")
    alice.cookies["django_language"] = "ar"
    html = alice.post(
        "/w/acme/publishing/check/",
        {"channels": [x.pk], "text": "Fresh roast today", "when": "draft"},
        HTTP_ACCEPT_LANGUAGE="ar",
    ).content.decode()
    assert '<p class="pv-text" dir="auto">Fresh roast today</p>' in html


def test_rich_text_escapes_everything_it_does_not_mark_up():
    html = rich_text('<b>hi</b> #tag "x" https://a.example/?q=<script>')
    assert "<b>" not in html and "<script>" not in html
    assert '<span class="pv-tag">#tag</span>' in html


def test_composer_saves_ordered_media_with_alt_text_and_a_channel_override(world, sandbox, alice):
    x = sandbox_channel(world, "Acme X", "x")
    fb = sandbox_channel(world, "Acme FB", "facebook")
    one = _asset(world.alice, "acme", "one.png", "One", color=(1, 2, 3))
    two = _asset(world.alice, "acme", "two.png", "Two", color=(3, 2, 1))
    response = alice.post(
        "/w/acme/publishing/new/",
        {
            "channels": [x.pk, fb.pk],
            "text": "Cups",
            "media": [two.pk, one.pk],
            f"alt_{two.pk}": "Two cups on a table",
            f"alt_{one.pk}": "One",
            f"override_media_{fb.pk}": "1",
            f"media_{fb.pk}": [one.pk],
            f"alt_{fb.pk}_{one.pk}": "A single cup",
            "when": "draft",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get()
    assert post.media == [
        {"asset": two.pk, "alt_text": "Two cups on a table"},
        {"asset": one.pk, "alt_text": "One"},
    ]
    target = post.targets.get(channel=fb)
    assert target.media_overridden and target.media == [
        {"asset": one.pk, "alt_text": "A single cup"}
    ]
    page = alice.get(f"/w/acme/publishing/posts/{post.pk}/edit/").content.decode()
    shared = page[page.index('id="media-shared"') :]
    assert shared.index(f'data-asset="{two.pk}"') < shared.index(f'data-asset="{one.pk}"')
    assert "Two cups on a table" in page and "A single cup" in page


def test_outsider_files_are_refused_in_the_composer_and_absent_from_the_picker(
    world, sandbox, alice
):
    theirs = _asset(world.charlie, "globex", "secret.png", "Their secret")
    ours = _asset(world.alice, "acme", "ours.png", "Ours", color=(5, 5, 5))
    picker = alice.get("/w/acme/publishing/media/").content.decode()
    assert "ours.png" in picker and "secret.png" not in picker
    response = alice.post(
        "/w/acme/publishing/new/", {"text": "Hi", "media": [theirs.pk], "when": "draft"}
    )
    assert response.status_code == 422
    assert "No such media file" in response.content.decode()
    assert not Post.objects.exists()
    assert ours.pk != theirs.pk


def test_picker_filters_by_search_folder_and_tag(world, alice):
    access = access_for(world.alice, "acme")
    media_actions.upload(
        Actor(user=world.alice),
        access,
        [upload("beans.png", image_bytes("PNG"))],
        folder="Launch",
        tags="coffee",
    )
    media_actions.upload(
        Actor(user=world.alice), access, [upload("tea.png", image_bytes("PNG", color=(1, 1, 1)))]
    )
    assert "tea.png" not in alice.get("/w/acme/publishing/media/?q=bean").content.decode()
    by_folder = alice.get("/w/acme/publishing/media/?folder=Launch").content.decode()
    assert "beans.png" in by_folder and "tea.png" not in by_folder
    by_tag = alice.get("/w/acme/publishing/media/?tag=coffee").content.decode()
    assert "beans.png" in by_tag and "tea.png" not in by_tag


def test_upload_from_the_composer_returns_the_new_files(world, alice):
    response = alice.post(
        "/w/acme/publishing/media/upload/", {"files": [upload("new.png", image_bytes("PNG"))]}
    )
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["name"] == "new.png" and item["thumb"].endswith("/thumbnail/")
    assert MediaAsset.objects.filter(workspace=world.acme, pk=item["id"]).exists()
    bad = alice.post("/w/acme/publishing/media/upload/", {"files": [upload("x.png", b"nope")]})
    assert bad.status_code == 422 and "x.png" in bad.json()["error"]


def test_viewers_cannot_upload_or_pick(world):
    viewer = make_user("vera")
    Membership.objects.create(user=viewer, workspace=world.acme, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert client.get("/w/acme/publishing/media/").status_code == 403
    response = client.post(
        "/w/acme/publishing/media/upload/", {"files": [upload("n.png", image_bytes("PNG"))]}
    )
    assert response.status_code == 403 and not MediaAsset.objects.exists()


def test_post_page_shows_the_attached_media_with_alt_text(world, alice):
    photo = _asset(world.alice, "acme", "cup.png", "A cup")
    post = create_post(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        PostInput(text="Cup", media=[MediaChoice(photo.pk, "كوب على الطاولة")]),
    )
    html = alice.get(f"/w/acme/publishing/posts/{post.pk}/").content.decode()
    assert 'alt="كوب على الطاولة"' in html
    assert f"/w/acme/media/{photo.pk}/thumbnail/" in html


@pytest.mark.parametrize(
    ("network", "handle", "shown"),
    [
        ("bluesky", "acme.bsky.social", "@acme.bsky.social"),
        ("mastodon", "@acme@mastodon.example", "@acme@mastodon.example"),
    ],
)
def test_bluesky_and_mastodon_previews_chain_the_thread(world, alice, network, handle, shown):
    channel = Channel.objects.create(
        workspace=world.acme,
        network=network,
        remote_id=handle,
        handle=handle,
        server_url=f"https://{network}.example",
    )
    photos = [_asset(world.alice, "acme", f"p{i}.png", f"P{i}", color=(i, 1, 1)) for i in range(2)]
    html = alice.post(
        "/w/acme/publishing/check/",
        {
            "channels": [channel.pk],
            "text": "Hello @friend #news",
            "thread": "\n---\n".join(["Part two in English", "الجزء الثالث"]),
            "media": [p.pk for p in photos],
            "when": "draft",
        },
    ).content.decode()
    [article] = _articles(html).values()
    assert f'data-family="{network}"' in article
    assert f'<span class="muted" dir="ltr">{shown}</span>' in article
    assert "pv-grid-2" in article
    assert article.count("pv-threaded") == 2 and "Thread, 3/3" in article
    assert '<p class="pv-text" dir="auto">الجزء الثالث</p>' in article
