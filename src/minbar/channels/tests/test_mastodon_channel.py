"""A user connects a Mastodon account through the Channels pages, end to end against
mastodon-mock: the page sends them to the instance, the instance sends them back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.test import Client

from minbar.channels.models import Channel, Health, ServerApp
from minbar.connectors.mastodon.tests.mockserver import MockServer


def test_owner_connects_mastodon_through_the_pages_and_tests_it(world, mock: MockServer):
    username, _token = mock.create_account("acme")
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/channels/connect/mastodon/").content.decode()
    assert "Enter the address of your Mastodon server" in page

    start = client.post("/w/acme/channels/connect/mastodon/", {"server_url": mock.url})
    authorize_url = start["Location"]
    assert authorize_url.startswith(mock.url + "/oauth/authorize")
    answer = mock.approve(authorize_url, username)

    back = client.get("/channels/oauth/callback/", answer)
    channel = Channel.objects.get(workspace=world.acme, network="mastodon")
    assert back["Location"] == f"/w/acme/channels/{channel.pk}/"
    assert channel.handle.startswith(username) and channel.server_url == mock.url
    assert channel.get_credentials().secrets["access_token"]
    assert ServerApp.objects.filter(network="mastodon", server_url=mock.url).count() == 1

    tested = client.post(f"/w/acme/channels/{channel.pk}/test/", headers={"HX-Request": "true"})
    assert "The connection works." in tested.content.decode()
    channel.refresh_from_db()
    assert channel.health == Health.CONNECTED

    # A second workspace on the same instance reuses Minbar's app registration.
    client.force_login(world.charlie)
    again = client.post("/w/globex/channels/connect/mastodon/", {"server_url": mock.url})
    assert urlsplit(again["Location"]).netloc == urlsplit(mock.url).netloc
    assert ServerApp.objects.filter(network="mastodon", server_url=mock.url).count() == 1


def test_a_refused_approval_is_explained(world, mock: MockServer):
    client = Client()
    client.force_login(world.alice)
    start = client.post("/w/acme/channels/connect/mastodon/", {"server_url": mock.url})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    # The instance sends the person back with an error instead of a code.
    response = client.get(
        "/channels/oauth/callback/",
        {
            "state": state,
            "error": "access_denied",
            "error_description": "The resource owner denied the request.",
        },
        follow=True,
    )
    assert "The resource owner denied the request." in response.content.decode()
    assert not Channel.objects.exists()


def test_channel_page_shows_live_activity_from_the_instance(world, mock: MockServer):
    from minbar.connectors.mastodon.tests.mockserver import Account

    username, _token = mock.create_account("acme")
    client = Client()
    client.force_login(world.alice)
    start = client.post("/w/acme/channels/connect/mastodon/", {"server_url": mock.url})
    client.get("/channels/oauth/callback/", mock.approve(start["Location"], username))
    channel = Channel.objects.get(network="mastodon")
    fan_name, fan_token = mock.create_account("fan")
    Account(mock, fan_name, fan_token).status(f"@{username} love the new roast!")

    html = client.get(f"/w/acme/channels/{channel.pk}/activity/").content.decode()
    assert "<dt>Followers</dt>" in html
    assert "love the new roast!" in html and '<span class="badge">Mention</span>' in html
