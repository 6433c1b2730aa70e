"""The redirect: stored destinations only, clicks recorded without raw IPs, bots not counted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from minbar.core.errors import InvalidInput
from minbar.links import recorder
from minbar.links.models import Click, ClickDay, ClickHour
from minbar.links.useragents import classify

from .helpers import BROWSER_UA, PHONE_UA, click, make_link


def _query(response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response["Location"]).query)


def test_unknown_code_is_404(world):
    assert Client().get("/l/nosuch1", headers={"User-Agent": BROWSER_UA}).status_code == 404


def test_redirects_at_once_to_the_destination_with_utm_tags_and_a_click_id(world):
    link = make_link(
        world.alice,
        utm={"utm_source": "instagram", "utm_medium": "social", "utm_campaign": "spring"},
    )
    response = click(Client(), link)
    assert response.status_code == 302
    assert response["Location"].startswith("https://shop.example.com/spring?")
    query = _query(response)
    assert query["utm_source"] == ["instagram"] and query["utm_campaign"] == ["spring"]
    assert len(query["mb_click"][0]) == 16
    assert "no-store" in response["Cache-Control"]
    # Written by the flusher, not by the request.
    assert Click.objects.count() == 0
    assert recorder.flush() == 1
    stored = Click.objects.get()
    assert stored.click_id == query["mb_click"][0]
    assert stored.link == link and stored.ua_class == "desktop" and stored.first_of_day


def test_no_open_redirect_the_query_string_never_decides_the_target(world):
    link = make_link(world.alice)
    for query in ("?url=https://evil.example", "?next=//evil.example", "?destination=javascript:x"):
        response = click(Client(), link, query=query)
        assert urlsplit(response["Location"]).hostname == "shop.example.com"
    assert (
        "evil" not in click(Client(), link, query="?mb_click=evil")["Location"].split("mb_click")[0]
    )


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://files.example.com/x",
        "//evil.example/path",
        "https://user:pw@example.com/",
        "shop.example.com/no-scheme",
        "https://",
    ],
)
def test_only_http_and_https_destinations_are_accepted(world, destination):
    with pytest.raises(InvalidInput):
        make_link(world.alice, destination=destination)


def test_codes_of_another_workspace_redirect_to_their_own_destination_only(world):
    theirs = make_link(world.charlie, slug="globex", destination="https://tea.example.com/")
    response = click(Client(), theirs)
    assert urlsplit(response["Location"]).hostname == "tea.example.com"
    recorder.flush()
    assert Click.objects.get().workspace == world.globex


def test_a_turned_off_link_is_404(world):
    from minbar.core.actor import Actor
    from minbar.links import actions
    from minbar.workspaces.access import access_for

    link = make_link(world.alice)
    actions.update_link(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        link.pk,
        actions.LinkInput(destination=link.destination, active=False),
    )
    assert click(Client(), link).status_code == 404


def test_bots_are_redirected_but_not_counted(world):
    link = make_link(world.alice)
    for ua in ("facebookexternalhit/1.1", "Twitterbot/1.0", "curl/8.5.0", ""):
        response = click(Client(), link, ua=ua)
        assert response.status_code == 302
        assert "mb_click" not in _query(response)
    recorder.flush()
    assert Click.objects.count() == 0
    assert not ClickHour.objects.exists()
    assert ClickDay.objects.get().bots == 4


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (BROWSER_UA, "desktop"),
        (PHONE_UA, "mobile"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15", "tablet"),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131 Safari/537.36",
            "tablet",
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) [FBAN/FBIOS;FBAV/450.0]", "mobile"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "bot"),
        ("LinkedInBot/1.0", "bot"),
        ("WhatsApp/2.23.20.0", "bot"),
        ("python-requests/2.32", "bot"),
        ("Mozilla/5.0 HeadlessChrome/120.0", "bot"),
        ("SomethingElse/1.0", "other"),
    ],
)
def test_user_agent_classes(ua, expected):
    assert classify(ua) == expected


def test_unique_visitor_estimate_counts_one_browser_once_a_day_and_stores_no_ip(world):
    link = make_link(world.alice)
    client = Client()
    click(client, link, ip="203.0.113.7")
    click(client, link, ip="203.0.113.7")
    click(client, link, ip="203.0.113.7", ua=PHONE_UA)  # another browser
    click(client, link, ip="198.51.100.9")  # another address
    recorder.flush()
    assert Click.objects.count() == 4
    assert Click.objects.filter(first_of_day=True).count() == 3
    assert ClickDay.objects.get().visitors == 3
    hours = ClickHour.objects.all()
    assert sum(h.clicks for h in hours) == 4 and sum(h.visitors for h in hours) == 3
    for row in Click.objects.values():
        assert "203.0.113.7" not in str(row) and "198.51.100.9" not in str(row)
        assert "Chrome" not in str(row)


def test_referrer_is_kept_as_a_host_name_only(world):
    link = make_link(world.alice)
    click(Client(), link, referrer="https://t.co/AbC?secret=1")
    recorder.flush()
    assert Click.objects.get().referrer_host == "t.co"


def test_head_requests_redirect_without_a_click(world):
    link = make_link(world.alice)
    response = Client().head(f"/l/{link.code}", headers={"User-Agent": BROWSER_UA})
    assert response.status_code == 302
    assert recorder.recorder.pending() == 0


def test_the_click_id_goes_before_a_fragment_and_replaces_a_stored_one(world):
    link = make_link(world.alice, destination="https://shop.example.com/p?mb_click=old&a=1#reviews")
    location = click(Client(), link)["Location"]
    base, _hash, fragment = location.partition("#")
    assert fragment == "reviews"
    query = parse_qs(urlsplit(base).query)
    assert query["a"] == ["1"] and len(query["mb_click"]) == 1 and query["mb_click"][0] != "old"
