"""Attach media in the composer (upload and library picker) and see it in each preview."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from minbar.channels import actions as channel_actions
from minbar.core.actor import Actor
from minbar.media import actions as media_actions
from minbar.publishing.models import Post
from minbar.workspaces.access import access_for

from .test_shell import sign_in

pytestmark = pytest.mark.browser


def _png(color: tuple[int, int, int], size: tuple[int, int] = (120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def setup(settings, live_server, world, tmp_path):
    settings.MINBAR_BASE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    access = access_for(world.alice, "acme")
    channels = [
        channel_actions.connect_with_fields(
            Actor(user=world.alice), access, "sandbox", {"name": name, "flavour": flavour}
        )
        for name, flavour in (("Acme X", "x"), ("Acme Insta", "instagram"))
    ]
    from django.core.files.uploadedfile import SimpleUploadedFile

    [library] = media_actions.upload(
        Actor(user=world.alice),
        access,
        [SimpleUploadedFile("beans.png", _png((120, 60, 20)))],
        alt_text="Roasted beans",
        folder="Launch",
    )
    return channels, library.asset


def test_attach_upload_and_pick_then_preview_and_save(
    page: Page, world, setup, tmp_path, page_problems
):
    (x, insta), beans = setup
    photo = tmp_path / "cup.png"
    photo.write_bytes(_png((20, 90, 160), (90, 160)))

    sign_in(page, "alice")
    page.goto("/w/acme/publishing/new/")
    page.locator(f"input[name=channels][value='{x.pk}']").check()
    page.locator(f"input[name=channels][value='{insta.pk}']").check()
    page.locator("#id_text").fill("قهوة اليوم #coffee")
    expect(page.locator("#composer-check .preview")).to_have_count(2)
    expect(page.locator(".pv-instagram")).to_contain_text("needs at least one image")

    # Upload from the composer: the file lands in the library and is attached.
    page.locator("#media-shared input[type=file]").set_input_files(str(photo))
    expect(page.locator("#media-shared .attached-media")).to_have_count(1)
    expect(page.locator(".pv-x .pv-grid img")).to_have_count(1)

    # Pick from the library, filtered by search.
    page.locator("#media-shared [data-open-picker]").click()
    page.locator("#media-picker input[type=search]").fill("bean")
    expect(page.locator("#media-picker [data-pick]")).to_have_count(1)
    page.locator("#media-picker [data-pick]").click()
    expect(page.locator("#media-picker [data-pick]")).to_have_attribute("aria-pressed", "true")
    page.locator("#media-picker [data-close-picker]").click()
    items = page.locator("#media-shared .attached-media")
    expect(items).to_have_count(2)
    expect(items.nth(1).locator("textarea")).to_have_value("Roasted beans")

    # Move the library file first and edit its alt text for this post.
    items.nth(1).locator("[data-move='-1']").click()
    expect(items.nth(0)).to_have_attribute("data-asset", str(beans.pk))
    items.nth(0).locator("textarea").fill("Beans, freshly roasted")
    expect(page.locator(".pv-x .pv-grid-2 img").first).to_have_attribute(
        "alt", "Beans, freshly roasted"
    )
    expect(page.locator(".pv-instagram .pv-dot")).to_have_count(2)
    expect(page.locator(".pv-instagram")).to_contain_text("will convert it to JPEG")
    expect(page.locator(".pv-instagram .pv-text")).to_have_attribute("dir", "auto")
    if os.environ.get("MINBAR_SCREENSHOTS"):
        page.screenshot(path=os.environ["MINBAR_SCREENSHOTS"], full_page=True)

    # A channel of its own: ticking the box starts from the shared files.
    page.get_by_text(f"Different text for {x.handle}").click()
    page.locator(f"input[name=override_media_{x.pk}]").check()
    own = page.locator(f"#media-channel-{x.pk} .attached-media")
    expect(own).to_have_count(2)
    own.nth(1).locator("[data-remove]").click()
    expect(own).to_have_count(1)
    expect(page.locator(".pv-x .pv-grid-1 img")).to_have_count(1)

    # Let the live check (and its autosave) finish: the test server shares one
    # in-memory database connection between its threads.
    page.wait_for_load_state("networkidle")
    page.locator("main form.composer button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved")
    post = Post.objects.get()
    assert post.media[0] == {"asset": beans.pk, "alt_text": "Beans, freshly roasted"}
    assert len(post.media) == 2
    on_x = post.targets.get(channel=x)
    assert on_x.media_overridden
    assert on_x.media == [{"asset": beans.pk, "alt_text": "Beans, freshly roasted"}]
    assert not page_problems.errors, page_problems.errors
