"""Media on posts: attaching library files, checking them per channel, publishing them."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotFound
from minbar.media import actions as media_actions
from minbar.media.models import MediaAsset, MediaRendition
from minbar.media.tests.conftest import (  # noqa: F401 - autouse fixtures
    image_bytes,
    media_root,
    no_ffmpeg,
    upload,
)
from minbar.publishing import actions, bulk, dispatcher
from minbar.publishing.actions import PostInput, Variant
from minbar.publishing.models import Post, PostState, TargetState
from minbar.publishing.target_media import MediaChoice
from minbar.publishing.tests.test_dispatcher_helpers import (
    network_posts,
    sandbox_channel,
    target_of,
)
from minbar.sandbox.tests.helpers import route_sandbox_in_process
from minbar.workspaces.access import access_for


@pytest.fixture
def sandbox(monkeypatch):
    route_sandbox_in_process(monkeypatch)


def _asset(world, name: str, data: bytes, alt: str = "", user=None) -> MediaAsset:
    user = user or world.alice
    workspace = "globex" if user == world.charlie else "acme"
    [outcome] = media_actions.upload(
        Actor(user=user), access_for(user, workspace), [upload(name, data)], alt_text=alt
    )
    return outcome.asset


def _pngs(world, count: int) -> list[MediaAsset]:
    return [
        _asset(world, f"p{i}.png", image_bytes("PNG", (80, 60), (10 * i, 20, 30)), f"Cup {i}")
        for i in range(count)
    ]


def _create(world, user, **fields) -> Post:
    fields.setdefault("text", "Fresh roast today")
    return actions.create_post(Actor(user=user), access_for(user, "acme"), PostInput(**fields))


# -- attaching ---------------------------------------------------------------------------


def test_attached_media_keep_order_and_default_to_the_library_alt_text(world):
    one, two = _pngs(world, 2)
    post = _create(
        world,
        world.bob,
        media=[MediaChoice(two.pk), MediaChoice(one.pk, "Our first cup, by the window")],
    )
    assert post.media == [
        {"asset": two.pk, "alt_text": "Cup 1"},
        {"asset": one.pk, "alt_text": "Our first cup, by the window"},
    ]
    snapshot = post.versions.get().snapshot
    assert snapshot["media"] == post.media


def test_a_channel_can_have_its_own_media_and_the_version_keeps_it(world, sandbox):
    x = sandbox_channel(world, "Acme X", "x")
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    [photo, other] = _pngs(world, 2)
    post = _create(
        world,
        world.alice,
        channel_ids=[x.pk, insta.pk],
        media=[MediaChoice(photo.pk)],
        variants={insta.pk: Variant(media=[MediaChoice(other.pk, "Square crop")])},
    )
    by_channel = {t.channel_id: t for t in post.targets.all()}
    assert by_channel[x.pk].effective_media == [{"asset": photo.pk, "alt_text": "Cup 0"}]
    assert by_channel[insta.pk].media_overridden
    assert by_channel[insta.pk].effective_media == [{"asset": other.pk, "alt_text": "Square crop"}]
    targets = {t["channel"]: t for t in post.versions.get().snapshot["targets"]}
    assert targets[x.pk]["media"] is None
    assert targets[insta.pk]["media"] == [{"asset": other.pk, "alt_text": "Square crop"}]


def test_editing_replaces_the_media_and_adds_a_version(world):
    one, two = _pngs(world, 2)
    post = _create(world, world.bob, media=[MediaChoice(one.pk)])
    actions.update_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        post.pk,
        PostInput(text="Fresh roast today", media=[MediaChoice(two.pk, "")]),
    )
    post.refresh_from_db()
    assert post.media == [{"asset": two.pk, "alt_text": ""}]
    assert [v.snapshot["media"] for v in post.versions.order_by("number")] == [
        [{"asset": one.pk, "alt_text": "Cup 0"}],
        [{"asset": two.pk, "alt_text": ""}],
    ]


def test_outsider_cannot_attach_another_workspaces_file(world):
    theirs = _asset(world, "secret.png", image_bytes("PNG"), user=world.charlie)
    with pytest.raises(NotFound) as exc:
        _create(world, world.alice, media=[MediaChoice(theirs.pk)])
    assert "No such media file" in exc.value.message and exc.value.fields["media"]
    with pytest.raises(NotFound):
        _create(world, world.alice, variants={}, media=[MediaChoice(999999)])


# -- checking per channel ----------------------------------------------------------------


def test_instagram_like_needs_an_image(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    with pytest.raises(InvalidInput) as exc:
        _create(world, world.alice, channel_ids=[insta.pk], when="now")
    assert "needs at least one image or video" in exc.value.fields[f"channel_{insta.pk}"]


def test_x_like_takes_at_most_four_images_while_facebook_like_takes_them(world, sandbox):
    x = sandbox_channel(world, "Acme X", "x")
    fb = sandbox_channel(world, "Acme FB", "facebook")
    five = [MediaChoice(a.pk) for a in _pngs(world, 5)]
    checks = actions.target_checks(PostInput(text="Five cups", media=five), [x, fb])
    problems = {c.channel.pk: c.problems for c in checks}
    assert problems[x.pk] == ["Sandbox (X-like): at most 4 images; this post has 5."]
    assert problems[fb.pk] == []


def test_fixable_images_are_notes_not_problems(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    tall = _asset(world, "tall.png", image_bytes("PNG", (100, 300)), "A tall cup")
    [check] = actions.target_checks(PostInput(media=[MediaChoice(tall.pk)]), [insta])
    assert check.problems == []
    assert any("will convert it to JPEG" in n for n in check.media_notes)
    assert any("aspect ratio" in n and "tall.png" in n for n in check.media_notes)


def test_a_video_on_a_network_without_videos_is_a_problem(world, sandbox, monkeypatch):
    x = sandbox_channel(world, "Acme X", "x")
    photo = _pngs(world, 1)[0]
    clip = MediaAsset.objects.create(
        workspace=world.acme,
        file="1/clip.mp4",
        original_filename="clip.mp4",
        kind="video",
        mime_type="video/mp4",
        bytes=1000,
        sha256="v" * 64,
        probed=True,
        duration=400.0,
        width=1280,
        height=720,
    )
    [check] = actions.target_checks(
        PostInput(text="Both", media=[MediaChoice(photo.pk), MediaChoice(clip.pk)]), [x]
    )
    assert "Sandbox (X-like) cannot mix images and videos in one post." in check.problems


def test_a_deleted_file_is_named_in_the_check(world, sandbox):
    x = sandbox_channel(world, "Acme X", "x")
    photo = _pngs(world, 1)[0]
    post_input = PostInput(text="Cup", media=[MediaChoice(photo.pk)])
    photo.delete()
    [check] = actions.target_checks(post_input, [x])
    assert check.problems == [
        "Sandbox (X-like): a media file of this post is no longer in the library."
    ]


# -- publishing --------------------------------------------------------------------------


def test_dispatcher_publishes_prepared_media_with_alt_text(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    x = sandbox_channel(world, "Acme X", "x")
    tall = _asset(world, "tall.png", image_bytes("PNG", (100, 300)), "A tall cup")
    post = _create(
        world,
        world.alice,
        channel_ids=[insta.pk, x.pk],
        media=[MediaChoice(tall.pk, "A tall cup of coffee")],
        when="now",
    )
    assert post.state == PostState.SCHEDULED
    assert dispatcher.dispatch_due() == 2
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.PUBLISHED}
    [on_insta] = network_posts(insta)
    [media] = on_insta.media
    # Instagram-like takes JPEG between 4:5 and 1.91:1: converted and padded.
    assert media["mime_type"] == "image/jpeg"
    assert media["alt_text"] == "A tall cup of coffee"
    assert media["width"] / media["height"] == pytest.approx(4 / 5, abs=0.01)
    [on_x] = network_posts(x)
    assert [(m["mime_type"], m["width"], m["height"]) for m in on_x.media] == [
        ("image/png", 100, 300)
    ]
    assert MediaRendition.objects.filter(asset=tall).count() == 1


def test_a_retry_reuses_the_prepared_file(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    tall = _asset(world, "tall.png", image_bytes("PNG", (100, 300)), "A tall cup")
    post = _create(world, world.alice, channel_ids=[insta.pk], media=[MediaChoice(tall.pk)])
    first = dispatcher.build_request(target_of(post))
    again = dispatcher.build_request(target_of(post))
    assert first.media == again.media
    assert MediaRendition.objects.filter(asset=tall).count() == 1


def test_a_file_deleted_before_publishing_fails_the_target_with_a_reason(world, sandbox):
    x = sandbox_channel(world, "Acme X", "x")
    photo = _pngs(world, 1)[0]
    post = _create(world, world.alice, channel_ids=[x.pk], media=[MediaChoice(photo.pk)])
    post.targets.update(state=TargetState.SCHEDULED, due_at=post.created_at)
    photo.delete()
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.FAILED
    assert "deleted from the library" in target.last_error_message
    assert network_posts(x) == []


def test_items_with_a_ready_file_are_still_sent(world, sandbox, tmp_path):
    x = sandbox_channel(world, "Acme X", "x")
    image = tmp_path / "a.jpg"
    image.write_bytes(image_bytes())
    post = _create(world, world.alice, channel_ids=[x.pk])
    post.media = [{"path": str(image), "mime_type": "image/jpeg", "alt_text": "A cup"}]
    post.save()
    request = dispatcher.build_request(target_of(post))
    assert [(m.path, m.alt_text, m.mime_type) for m in request.media] == [
        (str(image), "A cup", "image/jpeg")
    ]


# -- the API -----------------------------------------------------------------------------


@pytest.fixture
def api(world):
    def client_for(user, workspace):
        secret = create_api_token(Actor.system(), user, workspace, name="t").secret
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return client_for


def test_api_writes_a_post_with_media_and_per_channel_media(world, sandbox, api):
    x = sandbox_channel(world, "Acme X", "x")
    fb = sandbox_channel(world, "Acme FB", "facebook")
    one, two = _pngs(world, 2)
    response = api(world.alice, world.acme).post(
        "/api/v1/workspaces/acme/posts",
        {
            "text": "Cups",
            "channels": [x.pk, fb.pk],
            "media": [{"asset": one.pk}, {"asset": two.pk, "alt_text": "Two"}],
            "variants": {str(fb.pk): {"media": [{"asset": two.pk}]}},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["media"] == [
        {"asset": one.pk, "alt_text": "Cup 0"},
        {"asset": two.pk, "alt_text": "Two"},
    ]
    targets = {t["channel_id"]: t for t in body["targets"]}
    assert targets[fb.pk]["media"] == [{"asset": two.pk, "alt_text": "Cup 1"}]
    assert targets[fb.pk]["media_overridden"] and not targets[x.pk]["media_overridden"]


def test_api_refuses_another_workspaces_file_with_404(world, api):
    theirs = _asset(world, "secret.png", image_bytes("PNG"), user=world.charlie)
    response = api(world.alice, world.acme).post(
        "/api/v1/workspaces/acme/posts",
        {"text": "Hi", "media": [{"asset": theirs.pk}]},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "No such media file" in response.json()["error"]["message"]


def test_api_names_the_media_problem_per_channel(world, sandbox, api):
    x = sandbox_channel(world, "Acme X", "x")
    five = [{"asset": a.pk} for a in _pngs(world, 5)]
    response = api(world.alice, world.acme).post(
        "/api/v1/workspaces/acme/posts",
        {"text": "Cups", "channels": [x.pk], "media": five, "when": "now"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "at most 4 images" in str(response.json())


# -- CSV import ----------------------------------------------------------------------------


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(bulk.COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_csv_rows_name_library_files_and_are_checked_like_the_composer(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    photo = _asset(world, "beans.png", image_bytes("PNG", (80, 80)), "Beans")
    access = access_for(world.alice, "acme")
    rows = [
        {"text": "With a file", "channels": insta.handle, "media": "BEANS.png"},
        {"text": "By number", "channels": insta.handle, "media": str(photo.pk)},
        {"text": "Without", "channels": insta.handle},
        {"text": "Unknown", "channels": insta.handle, "media": "nope.png"},
    ]
    data = _csv(rows)
    with pytest.raises(bulk.ImportRejected) as exc:
        bulk.import_csv(Actor(user=world.alice), access, data, "UTC")
    assert [(e.row, e.column, e.message) for e in exc.value.errors] == [
        (4, "media", "Sandbox (Instagram-like) needs at least one image or video."),
        (5, "media", "No file “nope.png” in the media library."),
        (5, "media", "Sandbox (Instagram-like) needs at least one image or video."),
    ]
    created = bulk.import_csv(Actor(user=world.alice), access, _csv(rows[:2]), "UTC")
    assert [p.media for p in created] == [[{"asset": photo.pk, "alt_text": "Beans"}]] * 2


def test_csv_cannot_name_another_workspaces_file(world, sandbox):
    insta = sandbox_channel(world, "Acme Insta", "instagram")
    theirs = _asset(world, "secret.png", image_bytes("PNG"), user=world.charlie)
    data = _csv([{"text": "Hi", "channels": insta.handle, "media": str(theirs.pk)}])
    with pytest.raises(bulk.ImportRejected) as exc:
        bulk.import_csv(Actor(user=world.alice), access_for(world.alice, "acme"), data, "UTC")
    assert exc.value.errors[0].message == f"No file “{theirs.pk}” in the media library."
