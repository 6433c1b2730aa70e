"""Publishing: links in posts become tracked short links per channel, once, unless turned off."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.links import actions
from minbar.links.models import Link, PostTracking
from minbar.publishing import dispatcher
from minbar.publishing.models import Post, Target
from minbar.workspaces.access import access_for


@pytest.fixture
def post(world):
    x = Channel.objects.create(workspace=world.acme, network="x", remote_id="1", handle="acme_x")
    fb = Channel.objects.create(
        workspace=world.acme, network="facebook", remote_id="2", handle="acme_fb"
    )
    post = Post.objects.create(
        workspace=world.acme,
        author=world.alice,
        text="New menu (https://shop.example.com/menu). Also https://shop.example.com/menu!",
        link="https://shop.example.com/landing?utm_source=newsletter",
        first_comment="Order: https://shop.example.com/order",
        tags=["ramadan"],
    )
    Target.objects.create(post=post, channel=x)
    Target.objects.create(post=post, channel=fb, link="https://shop.example.com/fb-only")
    return post


def _target(post: Post, network: str) -> Target:
    return Target.objects.select_related("post", "channel").get(post=post, channel__network=network)


def test_links_become_the_channels_short_links_with_utm_tags(world, post):
    request = dispatcher.build_request(_target(post, "x"))
    menu = Link.objects.get(destination="https://shop.example.com/menu", channel__network="x")
    short = f"http://127.0.0.1:8000/l/{menu.code}"
    assert request.text == f"New menu ({short}). Also {short}!"
    assert (menu.utm_source, menu.utm_medium, menu.utm_campaign, menu.utm_content) == (
        "x",
        "social",
        "ramadan",
        str(post.pk),
    )
    assert menu.auto and menu.post == post and menu.created_by == world.alice
    assert request.first_comment.startswith("http") is False and "/l/" in request.first_comment
    landing = Link.objects.get(destination__startswith="https://shop.example.com/landing")
    # A tag already in the address is the author's choice and stays.
    assert landing.utm_source == "" and request.link.endswith(landing.code)
    target_query = parse_qs(urlsplit(Client().get(f"/l/{landing.code}")["Location"]).query)
    assert target_query["utm_source"] == ["newsletter"] and target_query["utm_medium"] == ["social"]


def test_each_channel_gets_its_own_links_and_its_variant_link(world, post):
    dispatcher.build_request(_target(post, "x"))
    fb_request = dispatcher.build_request(_target(post, "facebook"))
    fb_only = Link.objects.get(destination="https://shop.example.com/fb-only")
    assert fb_only.channel is not None and fb_only.channel.network == "facebook"
    assert fb_request.link.endswith(fb_only.code)
    assert Link.objects.filter(destination="https://shop.example.com/menu").count() == 2


def test_building_again_reuses_the_same_links_and_sends_the_same_text(world, post):
    first = dispatcher.build_request(_target(post, "x"))
    count = Link.objects.count()
    again = dispatcher.build_request(_target(post, "x"))
    assert again == first and Link.objects.count() == count


def test_a_link_made_by_a_concurrent_worker_is_found_not_duplicated(world, post):
    from minbar.links.actions import _create

    target = _target(post, "x")
    dispatcher.build_request(target)  # the other worker made and committed its links
    theirs = Link.objects.get(destination="https://shop.example.com/menu")
    # This worker missed it in its lookup and inserts: the unique key answers with theirs.
    mine = _create(world.acme, destination=theirs.destination, dedupe_key=theirs.dedupe_key)
    assert mine == theirs
    assert Link.objects.filter(destination="https://shop.example.com/menu").count() == 1


def test_a_post_with_tracking_off_goes_out_as_written(world, post):
    actions.set_post_tracking(
        Actor(user=world.alice), access_for(world.alice, "acme"), post.pk, False
    )
    request = dispatcher.build_request(_target(post, "x"))
    assert request.text == post.text and not Link.objects.exists()


def test_a_workspace_with_tracking_off_goes_out_as_written(world, post):
    actions.update_settings(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.SettingsInput(auto_apply=False),
    )
    assert dispatcher.build_request(_target(post, "x")).text == post.text


def test_short_links_already_in_the_text_are_left_alone(world, post):
    link = actions.create_link(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.LinkInput(destination="https://shop.example.com/x"),
    )
    post.text = f"See http://127.0.0.1:8000/l/{link.code}"
    post.save()
    assert dispatcher.build_request(_target(post, "x")).text == post.text


def test_a_short_link_that_would_break_the_length_limit_is_not_used(world):
    channel = Channel.objects.create(
        workspace=world.acme, network="bluesky", remote_id="3", handle="acme.bsky"
    )
    text = "x" * 285 + " https://a.co/b"  # 300 characters, Bluesky's limit
    post = Post.objects.create(workspace=world.acme, author=world.alice, text=text)
    Target.objects.create(post=post, channel=channel)
    request = dispatcher.build_request(_target(post, "bluesky"))
    assert request.text == text


def test_tracking_never_stops_a_post(world, post, monkeypatch):
    from minbar.links import autolink

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(autolink, "_tracked", broken)
    assert dispatcher.build_request(_target(post, "x")).text == post.text


def test_the_composer_toggle_turns_tracking_off_and_on(world):
    client = Client()
    client.force_login(world.alice)
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="9", handle="acme_sb"
    )
    page = client.get("/w/acme/publishing/new/")
    assert b'name="track_links"' in page.content and b"checked" in page.content
    data = {
        "text": "Hi https://shop.example.com",
        "channels": [channel.pk],
        "when": "draft",
        "track_links_shown": "1",
    }
    response = client.post("/w/acme/publishing/new/", data)
    assert response.status_code == 302, response.content[:500]
    post = Post.objects.get()
    assert PostTracking.objects.get(post=post).enabled is False
    assert not actions.post_tracked(post.pk)
    client.post(f"/w/acme/publishing/posts/{post.pk}/edit/", {**data, "track_links": "1"})
    assert actions.post_tracked(post.pk)
