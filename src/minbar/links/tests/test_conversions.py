"""Conversions: signed server calls, replays, dedupe by order id, windows, the browser path."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from minbar.core.actor import Actor
from minbar.links import actions, recorder
from minbar.links.models import Conversion
from minbar.workspaces.access import access_for

from .helpers import click, make_link, signed_post, write


@pytest.fixture
def acme_link(world):
    return make_link(world.alice, utm={"utm_campaign": "spring"})


def _clicked(link, client: Client | None = None) -> str:
    response = click(client or Client(), link)
    click_id = response["Location"].rsplit("mb_click=", 1)[1]
    recorder.flush()
    return click_id


def test_signed_conversion_is_recorded_and_attributed_to_its_click(world, acme_link):
    click_id = _clicked(acme_link)
    response = signed_post(
        Client(),
        world.acme,
        {
            "event": "purchase",
            "value": "49.90",
            "currency": "sar",
            "order_id": "A-1",
            "click_id": click_id,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["attributed"] is True
    conversion = Conversion.objects.get()
    assert conversion.value == Decimal("49.90") and conversion.currency == "SAR"
    assert conversion.link == acme_link and conversion.campaign == "spring"
    assert conversion.source == "server"


def test_the_same_order_id_is_counted_once(world, acme_link):
    click_id = _clicked(acme_link)
    body = {
        "event": "purchase",
        "value": "10",
        "currency": "USD",
        "order_id": "A-2",
        "click_ids": [click_id],
    }
    assert signed_post(Client(), world.acme, body).status_code == 201
    time.sleep(1)  # a new timestamp, so this is a new signed request, not a replay
    again = signed_post(Client(), world.acme, body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Conversion.objects.count() == 1


def test_a_replayed_signed_request_is_refused(world, acme_link):
    cfg = actions.settings_for(world.acme)
    raw = json.dumps({"event": "signup"}).encode()
    from minbar.webhooks.signing import sign

    headers = {"Minbar-Key": cfg.public_key, "Minbar-Signature": sign(cfg.conversion_secret, raw)}
    first = Client().post(
        "/api/v1/conversions", data=raw, content_type="application/json", headers=headers
    )
    assert first.status_code == 201
    second = Client().post(
        "/api/v1/conversions", data=raw, content_type="application/json", headers=headers
    )
    assert second.status_code == 409
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret": "mbcs_wrong"}, "bad_signature"),
        ({"timestamp": int(time.time()) - 3600}, "bad_signature"),
        ({"key": "mbpk_unknown"}, "unauthorized"),
    ],
)
def test_bad_signatures_old_timestamps_and_unknown_keys_are_refused(world, change, code):
    response = signed_post(Client(), world.acme, {"event": "signup"}, **change)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert not Conversion.objects.exists()


def test_the_body_must_be_the_one_signed(world):
    cfg = actions.settings_for(world.acme)
    from minbar.webhooks.signing import sign

    signature = sign(cfg.conversion_secret, b'{"event": "signup"}')
    response = Client().post(
        "/api/v1/conversions",
        data=b'{"event": "purchase", "value": "9999", "currency": "USD"}',
        content_type="application/json",
        headers={"Minbar-Key": cfg.public_key, "Minbar-Signature": signature},
    )
    assert response.status_code == 401


def test_rotating_the_secret_stops_the_old_one(world):
    old = actions.settings_for(world.acme).conversion_secret
    actions.rotate_conversion_secret(Actor(user=world.alice), access_for(world.alice, "acme"))
    assert signed_post(Client(), world.acme, {"event": "x"}, secret=old).status_code == 401
    assert signed_post(Client(), world.acme, {"event": "x"}).status_code == 201


def test_the_secret_is_encrypted_at_rest(world):
    from django.db import connection

    cfg = actions.settings_for(world.acme)
    with connection.cursor() as cursor:
        cursor.execute("SELECT conversion_secret FROM links_linksettings WHERE id = %s", [cfg.pk])
        stored = cursor.fetchone()[0]
    assert cfg.conversion_secret.startswith("mbcs_") and "mbcs_" not in stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": ""}, "event"),
        ({"event": "buy", "value": "abc", "currency": "USD"}, "value"),
        ({"event": "buy", "value": "-1", "currency": "USD"}, "value"),
        ({"event": "buy", "value": "10"}, "currency"),
        ({"event": "buy", "value": "10", "currency": "dollars"}, "currency"),
        ({"event": "buy", "occurred_at": "yesterday"}, "occurred_at"),
        ({"event": "buy", "click_ids": "abc"}, "click_ids"),
    ],
)
def test_bad_fields_get_specific_errors(world, body, field):
    response = signed_post(Client(), world.acme, body)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


# -- attribution ---------------------------------------------------------------------------


def _convert(workspace, click_ids, at, order=""):
    return actions.record_conversion(
        workspace,
        actions.ConversionInput(
            event="purchase",
            value=Decimal("5"),
            currency="USD",
            order_id=order,
            click_ids=tuple(click_ids),
            occurred_at=at,
        ),
        source="server",
    ).conversion


def test_a_click_inside_the_7_day_window_is_credited_and_one_outside_is_not(world, acme_link):
    now = timezone.now()
    write(acme_link, now - timedelta(days=6, hours=23), click_id="inside")
    write(acme_link, now - timedelta(days=7, minutes=1), click_id="outside")
    assert _convert(world.acme, ["inside"], now).click.click_id == "inside"
    late = _convert(world.acme, ["outside"], now)
    assert late.click is None and late.unattributed_reason == "outside_window"


def test_the_last_click_inside_the_window_wins(world, acme_link):
    other = make_link(world.alice, destination="https://shop.example.com/other")
    now = timezone.now()
    write(acme_link, now - timedelta(days=3), click_id="first")
    write(other, now - timedelta(hours=2), click_id="last")
    write(acme_link, now + timedelta(hours=1), click_id="after")  # after the conversion
    conversion = _convert(world.acme, ["first", "last", "after"], now)
    assert conversion.click.click_id == "last" and conversion.link == other


def test_a_custom_window(world, acme_link):
    actions.update_settings(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.SettingsInput(attribution_days=30),
    )
    now = timezone.now()
    write(acme_link, now - timedelta(days=20), click_id="twenty")
    assert _convert(world.acme, ["twenty"], now).click.click_id == "twenty"
    actions.update_settings(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.SettingsInput(attribution_days=1),
    )
    write(acme_link, now - timedelta(days=2), click_id="two")
    assert _convert(world.acme, ["two"], now).unattributed_reason == "outside_window"


def test_clicks_of_another_workspace_are_never_credited(world, acme_link):
    theirs = make_link(world.charlie, slug="globex")
    write(theirs, timezone.now() - timedelta(hours=1), click_id="theirs")
    conversion = _convert(world.acme, ["theirs"], timezone.now())
    assert conversion.click is None and conversion.unattributed_reason == "unknown_click"


def test_no_click_id_is_kept_unattributed(world):
    conversion = _convert(world.acme, [], timezone.now())
    assert conversion.click is None and conversion.unattributed_reason == "no_click"


def test_a_conversion_right_after_the_click_finds_it_in_the_buffer(world, acme_link):
    response = click(Client(), acme_link)
    click_id = response["Location"].rsplit("mb_click=", 1)[1]
    assert recorder.recorder.pending() == 1  # not written yet
    assert _convert(world.acme, [click_id], timezone.now()).click.click_id == click_id


def test_campaign_is_the_posts_first_tag(world):
    from minbar.channels.models import Channel
    from minbar.publishing.models import Post

    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="c1", handle="acme"
    )
    post = Post.objects.create(
        workspace=world.acme, author=world.alice, text="x", tags=["ramadan", "sale"]
    )
    from minbar.links.autolink import link_for

    link = link_for(post, channel.pk, "sandbox", "https://shop.example.com/")
    write(link, timezone.now() - timedelta(hours=1), click_id="p1")
    conversion = _convert(world.acme, ["p1"], timezone.now())
    assert (conversion.post, conversion.channel, conversion.campaign) == (post, channel, "ramadan")


# -- browser path --------------------------------------------------------------------------


@pytest.fixture
def browser_ready(world):
    actions.update_settings(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        actions.SettingsInput(
            browser_events=["signup"], allowed_origins=["https://shop.example.com"]
        ),
    )
    return actions.settings_for(world.acme)


def _browser(cfg, body, origin="https://shop.example.com"):
    return Client().post(
        "/api/v1/conversions/browser",
        data=json.dumps({"key": cfg.public_key, **body}),
        content_type="text/plain",
        headers={"Origin": origin},
    )


def test_browser_conversion_from_an_allowed_origin_with_a_real_click(
    world, acme_link, browser_ready
):
    click_id = _clicked(acme_link)
    response = _browser(browser_ready, {"event": "signup", "click_ids": [click_id]})
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert Conversion.objects.get().source == "browser"
    # Once per click and event.
    assert _browser(browser_ready, {"event": "signup", "click_ids": [click_id]}).status_code == 409


def test_browser_path_refuses_other_origins_other_events_and_made_up_clicks(
    world, acme_link, browser_ready
):
    click_id = _clicked(acme_link)
    refused = _browser(
        browser_ready, {"event": "signup", "click_ids": [click_id]}, origin="https://evil.example"
    )
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert (
        _browser(
            browser_ready,
            {"event": "purchase", "value": "999", "currency": "USD", "click_ids": [click_id]},
        ).status_code
        == 403
    )
    assert (
        _browser(browser_ready, {"event": "signup", "click_ids": ["madeup123"]}).status_code == 422
    )
    assert _browser(browser_ready, {"event": "signup"}).status_code == 422
    assert not Conversion.objects.exists()


def test_browser_preflight_is_answered(world, browser_ready):
    response = Client().options(
        "/api/v1/conversions/browser", headers={"Origin": "https://shop.example.com"}
    )
    assert response.status_code == 204
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_revenue_is_totalled_per_currency(world, acme_link):
    from minbar.links import stats

    now = timezone.now()
    for n, (value, currency) in enumerate([("10.50", "USD"), ("4.50", "USD"), ("100", "SAR")]):
        actions.record_conversion(
            world.acme,
            actions.ConversionInput("purchase", Decimal(value), currency, f"o{n}", (), now),
            source="server",
        )
    totals = stats.totals(world.acme.pk, now - timedelta(hours=1), now + timedelta(hours=1))
    assert totals.conversions == 3
    assert totals.revenue == {"USD": Decimal("15.00"), "SAR": Decimal("100.00")}
    assert _convert(world.acme, [], datetime(2020, 1, 1, tzinfo=UTC)).pk  # outside the range
