"""Pages and API for owner, member and outsider: links, detail, QR, settings, conversions, CSV."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.core.actor import Actor
from minbar.links import actions, recorder
from minbar.links.models import Link
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership

from .helpers import click, make_link


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def link(world):
    return make_link(
        world.alice, title="Spring menu", utm={"utm_source": "x", "utm_campaign": "spring"}
    )


def test_owner_sees_the_list_detail_and_charts(world, link):
    click(Client(), link)
    recorder.flush()
    client = _client(world.alice)
    page = client.get("/w/acme/links/")
    assert page.status_code == 200
    body = page.content.decode()
    assert link.code in body and "Spring menu" in body and 'data-testid="clicks-chart"' in body
    detail = client.get(f"/w/acme/links/{link.pk}/").content.decode()
    assert "utm_campaign" in detail and 'data-testid="link-clicks">1<' in detail


def test_list_search_and_filters(world, link):
    make_link(world.alice, destination="https://other.example.com/")
    client = _client(world.alice)
    assert link.code not in client.get("/w/acme/links/?q=other.example").content.decode()
    assert link.code in client.get("/w/acme/links/?q=spring").content.decode()
    assert link.code not in client.get("/w/acme/links/?kind=auto").content.decode()


def test_every_table_exports_csv(world, link):
    client = _client(world.alice)
    for url in (
        "/w/acme/links/?format=csv",
        f"/w/acme/links/{link.pk}/?format=csv&table=days",
        f"/w/acme/links/{link.pk}/?format=csv&table=referrers",
        f"/w/acme/links/{link.pk}/?format=csv&table=devices",
        "/w/acme/conversions/?format=csv",
    ):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), url
    rows = client.get("/w/acme/links/?format=csv").content.decode().splitlines()
    assert rows[0].startswith("code,short_url,destination") and link.code in rows[1]


def test_qr_codes_in_png_and_svg(world, link):
    client = _client(world.alice)
    png = client.get(f"/w/acme/links/{link.pk}/qr.png?download=1")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    svg = client.get(f"/w/acme/links/{link.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get(f"/w/acme/links/{link.pk}/qr.gif").status_code == 404


def test_member_creates_and_edits_a_link_with_the_utm_builder(world):
    client = _client(world.bob)
    response = client.post(
        "/w/acme/links/new/",
        {
            "destination": "https://shop.example.com/a",
            "utm_source": "instagram",
            "utm_medium": "social",
            "utm_campaign": "eid",
            "active": "on",
        },
    )
    assert response.status_code == 302
    link = Link.objects.get()
    assert link.created_by == world.bob and link.utm_campaign == "eid"
    bad = client.post(f"/w/acme/links/{link.pk}/edit/", {"destination": "javascript:alert(1)"})
    assert bad.status_code == 422 and b"https://" in bad.content
    link.refresh_from_db()
    assert link.destination == "https://shop.example.com/a"


def test_member_cannot_open_link_settings_but_owner_can_and_rotates(world):
    assert _client(world.bob).get("/w/acme/links/settings/").status_code == 403
    owner = _client(world.alice)
    page = owner.get("/w/acme/links/settings/").content.decode()
    secret = actions.settings_for(world.acme).conversion_secret
    assert secret not in page and "mbpk_" in page and "minbar-conversions.js" in page
    shown = owner.post("/w/acme/links/settings/secret/")
    assert secret in shown.content.decode() and shown["Cache-Control"] == "no-store"
    rotated = owner.post("/w/acme/links/settings/rotate-secret/").content.decode()
    assert secret not in rotated
    saved = owner.post(
        "/w/acme/links/settings/",
        {
            "auto_apply": "",
            "short_domain": "go.acme.example",
            "attribution_days": "14",
            "browser_events": "signup, lead",
            "allowed_origins": "https://acme.example\nhttps://shop.acme.example",
        },
    )
    assert saved.status_code == 302
    cfg = actions.settings_for(world.acme)
    assert (cfg.auto_apply, cfg.short_domain, cfg.attribution_days) == (
        False,
        "go.acme.example",
        14,
    )
    assert cfg.browser_events == ["signup", "lead"] and len(cfg.allowed_origins) == 2
    bad = owner.post(
        "/w/acme/links/settings/", {"short_domain": "not a host/x", "attribution_days": "7"}
    )
    assert bad.status_code == 422


def test_short_domain_is_used_for_short_links(world, link):
    actions.update_settings(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.SettingsInput(short_domain="go.acme.example"),
    )
    page = _client(world.alice).get(f"/w/acme/links/{link.pk}/").content.decode()
    assert f"https://go.acme.example/l/{link.code}" in page


def test_analyst_sees_links_but_cannot_create(world, link):
    from minbar.accounts.models import User

    ana = User.objects.create_user(username="ana", password="x" * 12)
    Membership.objects.create(user=ana, workspace=world.acme, role="analyst")
    client = _client(ana)
    assert client.get("/w/acme/links/").status_code == 200
    assert client.get("/w/acme/links/new/").status_code == 403


def test_outsider_gets_404_for_other_workspace_links(world, link):
    client = _client(world.charlie)
    for url in (
        "/w/acme/links/",
        f"/w/acme/links/{link.pk}/",
        f"/w/acme/links/{link.pk}/qr.png",
        "/w/acme/conversions/",
        "/w/acme/links/settings/",
    ):
        assert client.get(url).status_code == 404, url
    # Even in their own workspace, acme's link id is unknown.
    assert client.get(f"/w/globex/links/{link.pk}/").status_code == 404


def test_conversions_page_lists_attribution(world, link):
    from decimal import Decimal

    from django.utils import timezone

    response = click(Client(), link)
    click_id = response["Location"].rsplit("mb_click=", 1)[1]
    recorder.flush()
    actions.record_conversion(
        world.acme,
        actions.ConversionInput(
            "purchase", Decimal("12.50"), "SAR", "o-9", (click_id,), timezone.now()
        ),
        source="server",
    )
    page = _client(world.alice).get("/w/acme/conversions/").content.decode()
    assert "o-9" in page and "12.50 SAR" in page and link.code in page


# -- API ------------------------------------------------------------------------------------


def _api(user, workspace, role="owner") -> Client:
    secret = create_api_token(Actor.system(), user, workspace, name="t", role=role).secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_api_crud_and_stats(world):
    api = _api(world.alice, world.acme)
    created = api.post(
        "/api/v1/workspaces/acme/links",
        data=json.dumps({"destination": "https://shop.example.com/x", "utm_source": "api"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["short_url"].endswith(body["code"]) and "utm_source=api" in body["target_url"]
    link_id = body["id"]
    assert api.get("/api/v1/workspaces/acme/links").json()["count"] == 1
    patched = api.patch(
        f"/api/v1/workspaces/acme/links/{link_id}",
        data=json.dumps({"title": "T"}),
        content_type="application/json",
    )
    assert patched.json()["title"] == "T" and patched.json()["utm"]["utm_source"] == "api"
    link = Link.objects.get()
    click(Client(), link)
    recorder.flush()
    stats = api.get(
        f"/api/v1/workspaces/acme/links/{link_id}/stats?tz=Asia/Riyadh&by=ua_class"
    ).json()
    assert stats["totals"]["clicks"] == 1 and stats["groups"][0]["key"] == "desktop"
    assert len(stats["series"]) == 31
    ws_stats = api.get(
        "/api/v1/workspaces/acme/link-stats?by=channel&bucket=hour&start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z"
    )
    assert ws_stats.status_code == 200 and len(ws_stats.json()["series"]) == 24
    assert api.get("/api/v1/workspaces/acme/link-stats?tz=Mars/Base").status_code == 422
    assert api.get("/api/v1/workspaces/acme/link-stats?by=colour").status_code == 422
    bad = api.post(
        "/api/v1/workspaces/acme/links",
        data=json.dumps({"destination": "ftp://x"}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "destination" in bad.json()["error"]["fields"]
    assert api.delete(f"/api/v1/workspaces/acme/links/{link_id}").status_code == 204
    assert not Link.objects.exists()


def test_api_analyst_token_reads_but_cannot_create(world, link):
    api = _api(world.alice, world.acme, role="analyst")
    assert api.get("/api/v1/workspaces/acme/links").status_code == 200
    response = api.post(
        "/api/v1/workspaces/acme/links",
        data=json.dumps({"destination": "https://a.example/"}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_api_outsider_gets_404(world, link):
    api = _api(world.charlie, world.globex)
    assert api.get(f"/api/v1/workspaces/acme/links/{link.pk}").status_code == 404
    assert api.get("/api/v1/workspaces/globex/links/" + str(link.pk)).status_code == 404


def test_api_post_tracking_and_referral_links(world):
    from minbar.inbox.models import Contact
    from minbar.publishing.models import Post

    post = Post.objects.create(workspace=world.acme, author=world.alice, text="x")
    contact = Contact.objects.create(
        workspace=world.acme, network="x", remote_id="s", handle="@sara"
    )
    api = _api(world.alice, world.acme)
    off = api.put(
        f"/api/v1/workspaces/acme/posts/{post.pk}/link-tracking",
        data=json.dumps({"enabled": False}),
        content_type="application/json",
    )
    assert off.json() == {"post_id": post.pk, "enabled": False} and not actions.post_tracked(
        post.pk
    )
    referral = api.post(
        f"/api/v1/workspaces/acme/contacts/{contact.pk}/referral-link",
        data=json.dumps({"destination": "https://shop.example.com/"}),
        content_type="application/json",
    )
    assert referral.status_code == 200 and referral.json()["contact_id"] == contact.pk
    outsider = _api(world.charlie, world.globex)
    assert (
        outsider.post(
            f"/api/v1/workspaces/globex/contacts/{contact.pk}/referral-link",
            data=json.dumps({"destination": "https://x.example/"}),
            content_type="application/json",
        ).status_code
        == 422
    )
