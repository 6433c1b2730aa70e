"""No URL and no API operation shows one workspace's data to an outsider.

The walk is generated from the URL configuration and the OpenAPI document, so
a page or endpoint added later is covered without touching this file.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from minbar.accounts.actions import create_api_token
from minbar.analytics.models import Goal
from minbar.audit.actions import record
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.inbox.models import Contact, Item, Reply
from minbar.links.models import Link
from minbar.media.actions import upload as media_upload
from minbar.publishing.models import Post, Target
from minbar.webhooks.events import emit
from minbar.webhooks.models import WebhookEndpoint
from minbar.workspaces.access import access_for
from minbar.workspaces.actions import invite_member
from minbar.workspaces.models import Membership

# Routes that are not workspace-scoped (auth pages, health, API docs) still
# must not mention another workspace; they are checked for that only.
SECRET_MARKERS = (
    "Acme Roasters",
    "acme-secret-description",
    "bob@example.com",
    "acme-secret-handle",
    "acme-secret-post",
    "acme-secret-alt",
    "acme-secret-fan",
    "acme-secret-comment",
    "acme-secret-reply",
    "acme-secret-webhook",
    "acme-secret-link",
    "acme-secret-goal",
    "acme-secret-report",
)


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _fill(route: str, values: dict[str, str]) -> str | None:
    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        # A new URL parameter must get a value here, or its pages would go unchecked.
        assert name in values, f"give the tenancy walk a value for <{name}> ({route})"
        return values[name]

    if "^" in route or "(?P" in route:
        return None
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", replace, route)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def acme_objects(world):
    """Objects of every kind that belong to acme, for routes that take ids."""
    world.acme.description = "acme-secret-description"
    world.acme.save()
    access = access_for(world.alice, "acme")
    invitation = invite_member(
        Actor.system(), access, email="new@example.com", role="editor", send=False
    ).invitation
    record(Actor(user=world.alice), "workspace.updated", workspace=world.acme)
    bob_membership = Membership.objects.get(user=world.bob, workspace=world.acme)
    token = create_api_token(Actor.system(), world.alice, world.acme, name="t")
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="acme-1", handle="acme-secret-handle"
    )
    post = Post.objects.create(workspace=world.acme, author=world.alice, text="acme-secret-post")
    target = Target.objects.create(post=post, channel=channel)
    asset = media_upload(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        [SimpleUploadedFile("acme-secret-logo.png", _png())],
        alt_text="acme-secret-alt",
    )[0].asset
    contact = Contact.objects.create(
        workspace=world.acme, network="sandbox", remote_id="u1", handle="acme-secret-fan"
    )
    item = Item.objects.create(
        workspace=world.acme,
        channel=channel,
        remote_id="e1",
        kind="comment",
        contact=contact,
        text="acme-secret-comment",
        remote_created_at=timezone.now(),
    )
    Reply.objects.create(item=item, text="acme-secret-reply", state="failed")
    endpoint = WebhookEndpoint.objects.create(
        workspace=world.acme,
        url="https://hooks.example.com/acme-secret-webhook",
        secret="whsec_acme",
        events=["all"],
    )
    (webhook_delivery,) = emit(world.acme, "post.failed", {"text": "acme-secret-post"})
    link = Link.objects.create(
        workspace=world.acme,
        code="acmeLnk",
        destination="https://acme.example/",
        title="acme-secret-link",
    )
    goal = Goal.objects.create(
        workspace=world.acme,
        name="acme-secret-goal",
        metric="engagements",
        target_kind="absolute",
        target_value=10,
        start_day=date(2026, 1, 1),
        end_day=date(2026, 1, 31),
    )
    from minbar.reports.models import ReportSchedule

    schedule = ReportSchedule.objects.create(
        workspace=world.acme, name="acme-secret-report", language="en", emails=["a@example.com"]
    )
    return {
        "goal": goal,
        "schedule": schedule,
        "link": link,
        "contact": contact,
        "item": item,
        "endpoint": endpoint,
        "delivery": webhook_delivery,
        "asset": asset,
        "invitation": invitation,
        "membership": bob_membership,
        "token": token,
        "channel": channel,
        "post": post,
        "target": target,
    }


def test_outsider_gets_404_on_every_workspace_page(world, acme_objects):
    client = Client()
    client.force_login(world.charlie)
    values = {
        "slug": "acme",
        "module": "publishing",
        "member_id": str(acme_objects["membership"].pk),
        "invitation_id": str(acme_objects["invitation"].pk),
        "prefix": acme_objects["token"].token.prefix,
        "channel_id": str(acme_objects["channel"].pk),
        "post_id": str(acme_objects["post"].pk),
        "number": "1",
        "item_id": str(acme_objects["item"].pk),
        "reply_id": str(acme_objects["item"].replies.get().pk),
        "asset_id": str(acme_objects["asset"].pk),
        "target_id": str(acme_objects["target"].pk),
        "endpoint_id": str(acme_objects["endpoint"].pk),
        "delivery_id": str(acme_objects["delivery"].pk),
        "network": "sandbox",
        "handle": "nobody.example",
        "tag": "launch",
        "event_id": "not-an-event",
        "token": "not-a-real-token",
        "uidb64": "MQ",
        "path": "x",
        "filename": "x.jpg",
        "link_id": str(acme_objects["link"].pk),
        "goal_id": str(acme_objects["goal"].pk),
        "fmt": "png",
        "code": "nosuch1",
        "schedule_id": str(acme_objects["schedule"].pk),
    }
    checked = 0
    for route, _pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/"):
            continue  # the API is walked from its OpenAPI document below
        url = _fill(route, values)
        if url is None:
            continue
        for method in ("get", "post"):
            client.force_login(world.charlie)  # a walked logout route must not end the walk
            response = getattr(client, method)(url)
            body = response.content.decode(errors="replace")
            for marker in SECRET_MARKERS:
                assert marker not in body, f"{method.upper()} {url} leaks {marker!r}"
            if "<slug:slug>" in route:
                assert response.status_code == 404, (
                    f"{method.upper()} {url} answered {response.status_code} to an outsider"
                )
            checked += 1
    assert checked > 20, "the URL walk found too few routes; is the resolver walk broken?"


def _api_operations(client: Client, headers: dict[str, str]) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return [(method, path) for path, ops in spec["paths"].items() for method in ops]


@pytest.mark.parametrize("auth", ["token", "session"])
def test_outsider_sees_nothing_of_acme_through_any_api_operation(world, acme_objects, auth):
    client = Client()
    headers: dict[str, str] = {}
    if auth == "token":
        secret = create_api_token(Actor.system(), world.charlie, world.globex, name="c").secret
        headers = {"Authorization": f"Bearer {secret}"}
    else:
        client.force_login(world.charlie)
    values = {
        "slug": "acme",
        "member_id": str(acme_objects["membership"].pk),
        "invitation_id": str(acme_objects["invitation"].pk),
        "prefix": acme_objects["token"].token.prefix,
        "channel_id": str(acme_objects["channel"].pk),
        "post_id": str(acme_objects["post"].pk),
        "item_id": str(acme_objects["item"].pk),
        "asset_id": str(acme_objects["asset"].pk),
        "target_id": str(acme_objects["target"].pk),
        "endpoint_id": str(acme_objects["endpoint"].pk),
        "delivery_id": str(acme_objects["delivery"].pk),
        "link_id": str(acme_objects["link"].pk),
        "goal_id": str(acme_objects["goal"].pk),
        "contact_id": str(acme_objects["contact"].pk),
        "schedule_id": str(acme_objects["schedule"].pk),
    }
    operations = _api_operations(client, headers)
    assert len(operations) >= 10
    for method, path in operations:
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        # A body valid for every schema, so that the request reaches the permission check.
        body_in = json.dumps(
            {"role": "analyst", "email": "x@example.com", "name": "x", "network": "sandbox"}
        )
        response = client.generic(
            method.upper(), url, data=body_in, content_type="application/json", headers=headers
        )
        body = response.content.decode()
        for marker in SECRET_MARKERS:
            assert marker not in body, f"{method.upper()} {url} leaks {marker!r}"
        if "{slug}" in path or "{prefix}" in path:
            assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
            assert response.json()["error"]["code"] == "not_found"


def test_token_for_one_workspace_cannot_reach_another_of_the_same_user(world):
    # alice owns both; a token made for globex-as-member must not open acme.
    Membership.objects.create(user=world.alice, workspace=world.globex, role="editor")
    secret = create_api_token(Actor.system(), world.alice, world.globex, name="g").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/workspaces/acme").status_code == 404
    slugs = [w["slug"] for w in client.get("/api/v1/workspaces").json()["items"]]
    assert slugs == ["globex"]
