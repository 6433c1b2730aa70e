"""The sandbox server's HTTP API through Django's test client."""

from __future__ import annotations

import pytest

from minbar.sandbox.models import SandboxAccount, SandboxEvent, SandboxPost
from minbar.sandbox.tests.helpers import Api

pytestmark = pytest.mark.django_db

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def api() -> Api:
    client = Api()
    client.connect(flavour="facebook", name="Oasis Coffee", seed=7, topics=["coffee"])
    return client


def publish(api: Api, text: str = "Our new espresso blend #coffee", **body):
    response = api.post("/posts", {"text": text, **body})
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_connect_creates_an_account_with_a_token():
    api = Api()
    data = api.connect(flavour="x", name="Oasis Coffee", topics=["coffee", "food"])
    assert data["token_type"] == "bearer"
    assert data["access_token"].startswith("sbx_")
    account = data["account"]
    assert account["handle"] == "oasis_coffee"
    assert account["flavour"] == "x" and account["behaves_like"] == "X"
    assert account["followers"] > 500
    assert account["audience"]["size"] == 3000
    assert account["url"].endswith("/sandbox/@oasis_coffee")
    stored = SandboxAccount.objects.get(handle="oasis_coffee")
    assert data["access_token"] not in stored.token_hash  # only a hash is kept
    second = Api().connect(name="Oasis Coffee")
    assert second["account"]["handle"] == "oasis_coffee_2"
    me = api.get("/me")
    assert me.status_code == 200 and me.json()["handle"] == "oasis_coffee"


def test_connect_refuses_bad_input():
    api = Api()
    response = api.post("/connect", {"flavour": "myspace", "name": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["flavour"]
    assert api.post("/connect", {"flavour": "x"}).status_code == 422  # a name is required
    response = api.post("/connect", {"name": "x", "audience_size": 10**9})
    assert response.status_code == 422
    response = api.post("/connect", {"name": "x", "topics": ["knitting"]})
    assert response.status_code == 422
    response = api.client.post(
        "/sandbox/api/v1/connect", data="{nope", content_type="application/json"
    )
    assert response.status_code == 400


def test_requests_need_a_valid_token(api):
    anonymous = Api()
    response = anonymous.get("/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Api("sbx_wrong").get("/posts").status_code == 401
    assert api.get("/me").status_code == 200


def test_every_answer_carries_rate_limit_headers(api):
    answers = [
        api.get("/me"),
        api.get("/posts"),
        api.post("/posts", {"text": "Hello"}),
        api.post("/posts", {"text": "x" * 70_000}),  # refused, still limited
        api.get("/posts/p999999"),
        api.get("/notifications"),
        api.get("/metrics/account"),
        api.get("/faults"),  # control endpoints show the window without counting
        api.get("/clock"),
    ]
    for response in answers:
        for header in RATE_HEADERS:
            assert header in response, (response.status_code, header)
    assert answers[0]["X-RateLimit-Limit"] == "200"  # facebook-like: 200 calls per hour
    assert int(answers[1]["X-RateLimit-Remaining"]) < int(answers[0]["X-RateLimit-Remaining"])
    assert answers[2]["X-RateLimit-Limit"] == "50"  # its posting limit


def test_publish_get_list_and_delete(api):
    post = publish(api, "Iced latte season ☀️ https://oasis.example/iced #coffee")
    assert post["id"].startswith("p")
    assert post["language"] == "en" and post["topics"] == ["coffee"]
    assert post["urls"] == ["https://oasis.example/iced"]
    assert post["url"].endswith(f"/sandbox/@oasis_coffee/{post['id']}")
    assert api.get(f"/posts/{post['id']}").json()["text"].startswith("Iced latte")
    listed = api.get("/posts").json()
    assert [p["id"] for p in listed["items"]] == [post["id"]]
    page = api.client.get(f"/sandbox/@oasis_coffee/{post['id']}")
    assert page.status_code == 200 and "Iced latte" in page.content.decode()
    assert api.send("DELETE", f"/posts/{post['id']}").status_code == 204
    assert api.get(f"/posts/{post['id']}").status_code == 404
    assert api.get(f"/posts/{post['id']}/metrics").status_code == 404
    assert api.get("/posts").json()["items"] == []


def test_the_same_idempotency_key_returns_the_same_post(api):
    first = api.post("/posts", {"text": "Only once", "idempotency_key": "attempt-1"})
    again = api.post("/posts", {"text": "Only once", "idempotency_key": "attempt-1"})
    header = api.post("/posts", {"text": "Only once"}, **{"Idempotency-Key": "attempt-1"})
    assert first.status_code == 201
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"] == header.json()["id"]
    assert SandboxPost.objects.filter(idempotency_key="attempt-1").count() == 1
    found = api.get("/posts", idempotency_key="attempt-1").json()["items"]
    assert [p["id"] for p in found] == [first.json()["id"]]
    assert api.get("/posts", idempotency_key="never-used").json()["items"] == []


def test_flavours_enforce_their_real_limits():
    x = Api()
    x.connect(flavour="x", name="X account")
    assert x.post("/posts", {"text": "a" * 280}).status_code == 201
    too_long = x.post("/posts", {"text": "a" * 281})
    assert too_long.status_code == 422 and "280" in too_long.json()["error"]["message"]
    # A URL counts 23 whatever its length.
    assert (
        x.post("/posts", {"text": "a" * 250 + " https://example.com/" + "b" * 80}).status_code
        == 201
    )
    four = [{"mime_type": "image/png"}] * 4
    assert x.post("/posts", {"text": "four", "media": four}).status_code == 201
    assert x.post("/posts", {"text": "five", "media": four + four[:1]}).status_code == 422
    mixed = [{"mime_type": "image/png"}, {"mime_type": "video/mp4"}]
    assert x.post("/posts", {"text": "mixed", "media": mixed}).status_code == 422

    ig = Api()
    ig.connect(flavour="instagram", name="IG account")
    no_media = ig.post("/posts", {"text": "caption only"})
    assert no_media.status_code == 422
    assert "image or a video" in no_media.json()["error"]["message"]
    square = {"mime_type": "image/jpeg", "width": 1080, "height": 1080, "bytes": 200_000}
    assert ig.post("/posts", {"text": "square", "media": [square]}).status_code == 201
    png = {**square, "mime_type": "image/png"}
    assert ig.post("/posts", {"text": "png", "media": [png]}).status_code == 422
    tall = {**square, "height": 2000}
    assert ig.post("/posts", {"text": "tall", "media": [tall]}).status_code == 422
    tags = " ".join(f"#t{i}" for i in range(31))
    assert ig.post("/posts", {"text": tags, "media": [square]}).status_code == 422
    big = {**square, "bytes": 9 * 1024 * 1024}
    assert ig.post("/posts", {"text": "big", "media": [big]}).status_code == 422


def test_metrics_count_released_events(api):
    post = publish(api, "Our new espresso blend! https://oasis.example/blend #coffee")
    before = api.get(f"/posts/{post['id']}/metrics").json()["values"]
    assert before == dict.fromkeys(before, 0)
    api.post("/clock/advance", {"seconds": 12 * 3600})
    after = api.get(f"/posts/{post['id']}/metrics").json()["values"]
    assert after["impressions"] >= after["reach"] > 100
    assert after["likes"] > 0
    assert set(after) >= {"likes", "comments", "shares", "clicks", "impressions", "reach"}
    many = api.get("/metrics/posts", ids=f"{post['id']},p999999").json()
    assert many["data"][post["id"]]["values"] == after
    assert many["missing"] == ["p999999"]
    account = api.get("/metrics/account").json()["values"]
    assert account["posts"] == 1 and account["followers"] > 500


def test_notifications_page_through_everything_once(api):
    publish(api, "What is your favourite coffee? #coffee")
    api.post("/clock/advance", {"seconds": 2 * 86400})
    seen: list[str] = []
    cursor = ""
    for _ in range(100):
        page = api.get("/notifications", cursor=cursor, limit=25).json()
        seen += [item["id"] for item in page["items"]]
        if not page["cursor"]:
            break
        cursor = page["cursor"]
    assert seen and len(seen) == len(set(seen))
    kinds = {item["kind"] for item in api.get("/notifications", limit=200).json()["items"]}
    assert {"like", "comment"} <= kinds
    # Nothing new: an empty page and an empty cursor; later events come after the old cursor.
    empty = api.get("/notifications", cursor=cursor).json()
    assert empty["items"] == [] and empty["cursor"] == ""
    api.post("/clock/advance", {"seconds": 86400})
    newer = api.get("/notifications", cursor=cursor).json()["items"]
    assert newer and not {item["id"] for item in newer} & set(seen)
    assert api.get("/notifications", cursor="garbage").status_code == 422
    only = api.get("/notifications", kinds="comment", limit=200).json()["items"]
    assert only and {item["kind"] for item in only} == {"comment"}
    comment = only[0]
    assert comment["sentiment"] in {"positive", "neutral", "negative"}
    assert comment["language"] in {"en", "ar"}
    assert comment["author"]["handle"] and comment["post"]["id"].startswith("p")


def test_reply_hide_and_delete_interactions(api):
    post = publish(api, "Tell us about your morning coffee? #coffee")
    api.post("/clock/advance", {"seconds": 2 * 86400})
    comments = api.get("/notifications", kinds="comment", limit=200).json()["items"]
    assert comments
    target = comments[0]["id"]
    reply = api.post(
        f"/interactions/{target}/reply", {"text": "Thank you!", "idempotency_key": "r1"}
    )
    assert reply.status_code == 201
    assert reply.json()["reply_to"] == target
    assert (
        api.post(
            f"/interactions/{target}/reply", {"text": "Thank you!", "idempotency_key": "r1"}
        ).status_code
        == 200
    )
    hidden = api.post(f"/interactions/{target}/hide", {"hidden": True})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    likes = api.get("/notifications", kinds="like", limit=1).json()["items"]
    assert api.post(f"/interactions/{likes[0]['id']}/hide").status_code == 422
    assert api.post(f"/interactions/{likes[0]['id']}/reply", {"text": "hi"}).status_code == 422
    before = api.get(f"/posts/{post['id']}/metrics").json()["values"]["comments"]
    assert api.send("DELETE", f"/interactions/{target}").status_code == 204
    assert api.get(f"/interactions/{target}").status_code == 404
    after = api.get(f"/posts/{post['id']}/metrics").json()["values"]["comments"]
    assert after == before - 1
    # A thread: replying to the account's own post.
    thread = api.post("/posts", {"text": "And a second part", "reply_to": post["id"]})
    assert thread.status_code == 201 and thread.json()["reply_to"] == post["id"]
    assert api.post("/posts", {"text": "x", "reply_to": "p999999"}).status_code == 404


def test_search_finds_public_posts_and_comments(api):
    api.post("/clock/advance", {"seconds": 3 * 86400})
    page = api.get("/search", q="coffee").json()
    assert page["items"]
    assert all("coffee" in item["text"].lower() for item in page["items"])
    assert api.get("/search", q="x").status_code == 422
    arabic = api.get("/search", q="القهوة").json()["items"]
    assert all("القهوة" in item["text"] for item in arabic)


def test_audience_endpoints(api):
    page = api.get("/audience", limit=10).json()
    assert len(page["items"]) == 10 and page["cursor"] == "10"
    person = page["items"][0]
    assert {"age", "city", "climate", "income", "job_title", "interests", "language"} <= set(person)
    summary = api.get("/audience/summary").json()
    assert summary["size"] == 3000 and "languages" in summary


def test_public_profile_and_health():
    api = Api()
    api.connect(name="Public Co")
    assert Api().get("/health").json()["ok"] is True
    profile = Api().get("/accounts/public_co").json()
    assert profile["handle"] == "public_co" and "followers" in profile
    assert Api().get("/accounts/nobody").status_code == 404


def test_wrong_method_is_405(api):
    response = api.send("PATCH", "/posts")
    assert response.status_code == 405 and "GET" in response["Allow"]


def test_the_clock_can_be_stopped_set_and_advanced(api):
    clock = api.get("/clock").json()
    assert clock["speed"] == 0
    publish(api)
    assert SandboxEvent.objects.filter(occurred_ms__isnull=False, post__isnull=False).count() == 0
    advanced = api.post("/clock/advance", {"seconds": 3600}).json()
    assert advanced["released"] > 0
    set_speed = api.post("/clock", {"speed": 120}).json()
    assert set_speed["speed"] == 120
    assert api.post("/clock", {}).status_code == 422
    assert api.post("/clock/advance", {"seconds": -5}).status_code == 422


def test_the_sandbox_can_be_turned_off(settings, api):
    settings.MINBAR_SANDBOX_ENABLED = False
    assert api.get("/me").status_code == 404
    assert Api().post("/connect", {"name": "x"}).status_code == 404
