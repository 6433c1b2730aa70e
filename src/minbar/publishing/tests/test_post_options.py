"""A network's own per-post settings (minbar.connectors.options) through the composer,
the API, the checks, the post's page and the request the dispatcher sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from minbar.channels import actions as channel_actions
from minbar.channels.models import Channel
from minbar.channels.tests.fakes import FakeConnector
from minbar.connectors.types import Capabilities, OptionKind, PostOption, TextRules
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput
from minbar.publishing import actions, dispatcher
from minbar.publishing.actions import PostInput, Variant
from minbar.publishing.models import Target
from minbar.workspaces.access import access_for

EVENTS = ("EVENT",)


class OptionsConnector(FakeConnector):
    """A network with every kind of setting: a visibility, a content warning, a required
    choice, a setting shown only for events, a date and time, a link and a switch."""

    network = "optnet"
    capabilities = Capabilities(
        network="optnet",
        label="OptNet",
        auth=FakeConnector.capabilities.auth,
        text=TextRules(max_length=500),
        visibility=("public", "private"),
        content_warning=True,
        post_options=(
            PostOption(
                "kind",
                "Post type",
                OptionKind.CHOICE,
                (("UPDATE", "Update"), ("EVENT", "Event")),
                default="UPDATE",
            ),
            PostOption(
                "event_title",
                "Event title",
                required=True,
                max_length=20,
                shown_when=("kind", EVENTS),
            ),
            PostOption(
                "audience",
                "Audience",
                OptionKind.CHOICE,
                (("all", "All"), ("kids", "Kids")),
                required=True,
            ),
            PostOption("starts", "Starts", OptionKind.DATE_TIME),
            PostOption("more", "More at", OptionKind.URL),
            PostOption("quiet", "Quietly", OptionKind.FLAG),
        ),
    )


@pytest.fixture(autouse=True)
def option_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from minbar.connectors.snapchat.connector import SnapchatConnector

    registry = {"optnet": OptionsConnector, "fakenet": FakeConnector, "snapchat": SnapchatConnector}

    def get(network: str) -> Any:
        try:
            return registry[network]
        except KeyError:
            raise LookupError(network) from None

    monkeypatch.setattr(channel_actions, "get_connector", get)


@pytest.fixture
def channel(world: Any) -> Channel:
    return Channel.objects.create(
        workspace=world.acme,
        network="optnet",
        remote_id="opt-1",
        handle="acme.opt",
        server_url="https://fake.example",
    )


def _input(channel: Channel, options: dict[str, str], **extra: Any) -> PostInput:
    return PostInput(
        text="Open day",
        channel_ids=[channel.pk],
        variants={channel.pk: Variant(options=options)},
        **extra,
    )


def _create(world: Any, post_input: PostInput) -> Any:
    return actions.create_post(Actor(user=world.alice), access_for(world.alice, "acme"), post_input)


def test_settings_that_apply_are_stored_and_the_rest_dropped(world: Any, channel: Channel) -> None:
    post = _create(
        world,
        _input(
            channel,
            {
                "kind": "UPDATE",
                "event_title": "ignored",
                "audience": "kids",
                "quiet": "on",
                "visibility": "private",
            },
            when="at",
            scheduled_at=timezone.now() + timedelta(hours=1),
        ),
    )
    target = Target.objects.get(post=post)
    # The event title applies only to events; the switch is stored as "1".
    assert target.options == {
        "kind": "UPDATE",
        "audience": "kids",
        "quiet": "1",
        "visibility": "private",
    }


def test_the_request_carries_visibility_warning_and_settings(world: Any, channel: Channel) -> None:
    post = _create(
        world,
        _input(
            channel,
            {"audience": "all", "visibility": "private", "content_warning": "Spoilers"},
            when="at",
            scheduled_at=timezone.now() + timedelta(hours=1),
        ),
    )
    request = dispatcher.build_request(Target.objects.get(post=post))
    assert request.visibility == "private"
    assert request.content_warning == "Spoilers"
    assert dict(request.options) == {"audience": "all"}


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "OptNet: choose “Audience”."),
        ({"audience": "teens"}, "“teens” is not one of the choices"),
        ({"audience": "all", "kind": "EVENT"}, "OptNet: choose “Event title”."),
        ({"audience": "all", "kind": "EVENT", "event_title": "x" * 21}, "21/20 characters"),
        ({"audience": "all", "more": "ftp://x.example"}, "starting with https://"),
        ({"audience": "all", "starts": "next week"}, "use a date and time"),
        ({"audience": "all", "visibility": "direct"}, "“direct” is not one of the choices"),
        ({"audience": "all", "colour": "red"}, "OptNet has no setting “colour”."),
    ],
)
def test_wrong_settings_are_named_before_scheduling(
    world: Any, channel: Channel, options: dict[str, str], words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create(world, _input(channel, options, when="now"))
    assert words in caught.value.fields[f"channel_{channel.pk}"]


def test_a_draft_keeps_settings_that_are_not_complete_yet(world: Any, channel: Channel) -> None:
    post = _create(world, _input(channel, {"kind": "EVENT"}))
    assert Target.objects.get(post=post).options == {"kind": "EVENT"}


def test_a_time_setting_is_read_in_the_persons_time_zone_and_stored_in_utc(
    world: Any, channel: Channel
) -> None:
    post = _create(
        world,
        _input(channel, {"audience": "all", "starts": "2031-03-30T09:00"}, time_zone="Asia/Riyadh"),
    )
    stored = Target.objects.get(post=post).options["starts"]
    assert datetime.fromisoformat(stored) == datetime(2031, 3, 30, 6, 0, tzinfo=UTC)


def test_the_composer_shows_the_settings_and_keeps_them_after_an_error(
    world: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/publishing/new/").content.decode()
    prefix = f"opt_{channel.pk}_"
    assert f'data-testid="post-options-{channel.pk}"' in page
    for name in (
        "visibility",
        "content_warning",
        "kind",
        "event_title",
        "audience",
        "starts",
        "more",
        "quiet",
    ):
        assert f'name="{prefix}{name}"' in page
    assert f'data-shown-when="{prefix}kind" data-shown-values="EVENT"' in page
    answer = client.post(
        "/w/acme/publishing/new/",
        {
            "channels": [str(channel.pk)],
            "text": "Open day",
            "when": "now",
            f"{prefix}kind": "EVENT",
            f"{prefix}event_title": "Open day",
        },
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "OptNet: choose “Audience”." in body
    assert 'value="Open day"' in body  # nothing typed is lost
    assert '<option value="EVENT" selected>' in body


def test_the_composer_saves_the_settings_and_the_post_page_shows_them(
    world: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(world.alice)
    prefix = f"opt_{channel.pk}_"
    when = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        "/w/acme/publishing/new/",
        {
            "channels": [str(channel.pk)],
            "text": "Open day",
            "when": "at",
            "scheduled_at": when,
            f"{prefix}audience": "kids",
            f"{prefix}quiet": "1",
            f"{prefix}visibility": "private",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    target = Target.objects.get(channel=channel)
    assert target.options == {"audience": "kids", "quiet": "1", "visibility": "private"}
    page = client.get(answer["Location"]).content.decode()
    assert f'data-testid="target-settings-{target.pk}"' in page
    assert '<dt>Audience</dt><dd dir="auto">Kids</dd>' in page
    assert '<dt>Visibility</dt><dd dir="auto">Private</dd>' in page
    edit = client.get(f"/w/acme/publishing/posts/{target.post_id}/edit/").content.decode()
    assert f'name="{prefix}quiet" value="1" checked' in edit


def test_the_api_lists_a_channels_settings_and_takes_them_in_a_variant(
    world: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(world.alice)
    listed = client.get(f"/api/v1/workspaces/acme/channels/{channel.pk}/post-options").json()
    by_key = {o["key"]: o for o in listed}
    assert [o["key"] for o in listed][:2] == ["visibility", "content_warning"]
    assert by_key["audience"]["required"] is True
    assert by_key["event_title"]["shown_when"] == {"key": "kind", "values": ["EVENT"]}
    assert by_key["visibility"]["choices"] == [
        {"value": "public", "label": "Public"},
        {"value": "private", "label": "Private"},
    ]
    created = client.post(
        "/api/v1/workspaces/acme/posts",
        {
            "text": "Open day",
            "channels": [channel.pk],
            "variants": {
                str(channel.pk): {
                    "options": {"audience": "all", "starts": "2031-01-01T10:00:00+03:00"}
                }
            },
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    [target] = created.json()["targets"]
    assert target["options"] == {"audience": "all", "starts": "2031-01-01T07:00:00+00:00"}
    refused = client.post(
        "/api/v1/workspaces/acme/posts",
        {
            "text": "Open day",
            "channels": [channel.pk],
            "when": "now",
            "variants": {str(channel.pk): {"options": {"colour": "red"}}},
        },
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert (
        "OptNet has no setting “colour”."
        in refused.json()["error"]["fields"][f"channel_{channel.pk}"]
    )


def test_outsider_gets_404_for_another_workspaces_channel_settings(
    world: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(world.charlie)
    answer = client.get(f"/api/v1/workspaces/acme/channels/{channel.pk}/post-options")
    assert answer.status_code == 404


def test_a_channel_without_posting_is_not_offered_and_refused_by_the_api(world: Any) -> None:
    """Snapchat connects for sign-in only: its public API has no organic posting."""
    snap = Channel.objects.create(
        workspace=world.acme, network="snapchat", remote_id="snap-1", handle="acme.snap"
    )
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/publishing/new/").content.decode()
    assert f'name="channels" value="{snap.pk}"' not in page
    assert f'data-testid="cannot-post-{snap.pk}"' in page
    with pytest.raises(InvalidInput) as caught:
        _create(world, PostInput(text="Hi", channel_ids=[snap.pk], when="now"))
    assert "its API does not allow posting" in caught.value.fields[f"channel_{snap.pk}"]
