"""A YouTube channel connected through Minbar's Channels pages, and its quota on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from minbar.channels import actions
from minbar.channels.models import Channel
from minbar.connectors.types import PostRequest
from minbar.connectors.youtube.tests.conftest import video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube
from minbar.core.actor import Actor
from minbar.workspaces.access import access_for


@pytest.mark.django_db
def test_connecting_through_the_pages_then_seeing_the_quota(
    world: Any, fake: FakeYouTube, app: dict[str, str], tmp_path: Path
) -> None:
    user = fake.add_user("acme")
    client = Client()
    client.force_login(world.alice)
    # A browser always sends the CSRF token field, so the form is bound.
    start = client.post("/w/acme/channels/connect/youtube/", {"csrfmiddlewaretoken": "t"})
    assert start["Location"].startswith(fake.base_url + "/o/oauth2/v2/auth?")
    answer = fake.approve(start["Location"], user)
    back = client.get("/channels/oauth/callback/", answer)
    channel = Channel.objects.get(workspace=world.acme, network="youtube")
    assert back["Location"] == f"/w/acme/channels/{channel.pk}/"
    assert channel.handle == user.handle
    assert channel.get_credentials().secrets["refresh_token"]

    # Publishing through the channel's connector saves the quota it spent.
    connector = actions.connector_for(channel)
    connector.publish(PostRequest(text="From Minbar", media=(video_file(tmp_path),)))
    channel.refresh_from_db()
    assert channel.get_credentials().data["quota"]["uploads"] == 1

    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'data-testid="quota"' in page
    assert "Uploads: 1 of 100 today; at most 99 are left." in page
    assert "midnight Pacific Time" in page


def _connected_channel(world: Any, fake: FakeYouTube, client: Client) -> Channel:
    user = fake.add_user("acme")
    start = client.post("/w/acme/channels/connect/youtube/", {"csrfmiddlewaretoken": "t"})
    client.get("/channels/oauth/callback/", fake.approve(start["Location"], user))
    return Channel.objects.get(workspace=world.acme, network="youtube")


@pytest.mark.django_db
def test_removing_the_channel_asks_google_to_end_minbars_access(
    world: Any, fake: FakeYouTube, app: dict[str, str]
) -> None:
    client = Client()
    client.force_login(world.alice)
    channel = _connected_channel(world, fake, client)
    refresh_token = channel.get_credentials().secrets["refresh_token"]
    page = client.get(f"/w/acme/channels/{channel.pk}/remove/").content.decode()
    assert "Minbar also asks YouTube to end its access" in page
    done = client.post(f"/w/acme/channels/{channel.pk}/remove/", follow=True).content.decode()
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert fake.revocations == [refresh_token]
    assert "The network confirmed that Minbar&#x27;s access has ended." in done


@pytest.mark.django_db
def test_a_failed_revocation_still_removes_the_channel_and_says_where_to_end_access(
    world: Any, fake: FakeYouTube, app: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(world.alice)
    channel = _connected_channel(world, fake, client)
    secrets = channel.get_credentials().secrets
    fake.fail("POST", "/revoke", status=500)
    done = client.post(f"/w/acme/channels/{channel.pk}/remove/", follow=True).content.decode()
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert fake.revocations == []
    assert "YouTube did not confirm that Minbar&#x27;s access has ended." in done
    assert "https://myaccount.google.com/permissions" in done
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"youtube channel {channel.pk} failed" in logged
    assert all(token not in logged for token in secrets.values())


@pytest.mark.django_db
def test_a_sign_in_another_channel_still_uses_is_not_revoked(
    world: Any, fake: FakeYouTube, app: dict[str, str]
) -> None:
    client = Client()
    client.force_login(world.alice)
    channel = _connected_channel(world, fake, client)
    twin = Channel.objects.create(
        workspace=world.globex,  # the same Google sign-in, connected in another workspace
        network="youtube",
        server_url=channel.server_url,
        remote_id="UC-twin",
        handle="@twin",
    )
    twin.set_credentials(channel.get_credentials())
    twin.save()
    actions.disconnect(Actor(user=world.alice), access_for(world.alice, "acme"), channel.pk)
    assert fake.revocations == []
    assert actions.connector_for(twin).verify().remote_id


@pytest.mark.django_db
def test_uploads_kept_private_are_warned_on_the_channel_and_the_posts_page(
    world: Any, fake: FakeYouTube, app: dict[str, str], tmp_path: Path
) -> None:
    """videos.insert: uploads from unverified API projects are "restricted to private"."""
    from minbar.publishing.models import TargetState
    from minbar.publishing.tests.test_dispatcher_helpers import make_post, target_of

    client = Client()
    client.force_login(world.alice)
    channel = _connected_channel(world, fake, client)
    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'data-testid="uploads-locked-private"' not in page

    fake.project_audited = False
    locked = actions.connector_for(channel).publish(
        PostRequest(text="Launch film", media=(video_file(tmp_path),))
    )
    fine = actions.connector_for(channel).publish(
        PostRequest(text="Behind the scenes", media=(video_file(tmp_path),), visibility="private")
    )
    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'data-testid="uploads-locked-private"' in page
    assert "YouTube keeps this channel's uploads private" in page
    assert "Audit and Quota Extension Form" in page and "https://studio.youtube.com" in page

    posts = []
    for result in (locked, fine):
        post = make_post(world, [channel], state=TargetState.PUBLISHED)
        target = target_of(post)
        target.remote_id, target.remote_url = result.remote_id, result.url
        target.save(update_fields=["remote_id", "remote_url"])
        posts.append((post, target))
    (locked_post, locked_target), (fine_post, _fine_target) = posts
    detail = client.get(f"/w/acme/publishing/posts/{locked_post.pk}/").content.decode()
    assert f'data-testid="kept-private-{locked_target.pk}"' in detail
    assert "YouTube kept this video private" in detail
    assert f'href="/w/acme/channels/{channel.pk}/"' in detail
    other = client.get(f"/w/acme/publishing/posts/{fine_post.pk}/").content.decode()
    assert "YouTube kept this video private" not in other

    # The audit passed: the next public upload stays public and the channel's warning ends.
    fake.project_audited = True
    actions.connector_for(channel).publish(
        PostRequest(text="Now public", media=(video_file(tmp_path),))
    )
    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'data-testid="uploads-locked-private"' not in page
    detail = client.get(f"/w/acme/publishing/posts/{locked_post.pk}/").content.decode()
    assert "YouTube kept this video private" in detail  # that video is still private


@pytest.mark.django_db
def test_the_kept_private_warning_reads_in_arabic(
    world: Any, fake: FakeYouTube, app: dict[str, str], tmp_path: Path
) -> None:
    world.alice.language = "ar"
    world.alice.save(update_fields=["language"])
    client = Client()
    client.force_login(world.alice)
    channel = _connected_channel(world, fake, client)
    fake.project_audited = False
    actions.connector_for(channel).publish(
        PostRequest(text="Launch film", media=(video_file(tmp_path),))
    )
    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'dir="rtl"' in page and 'data-testid="uploads-locked-private"' in page
    assert "يوتيوب يُبقي مقاطع هذه القناة خاصة" in page
