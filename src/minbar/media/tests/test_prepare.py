"""validate_for and prepare_for: what the composer asks before it posts a file to a network."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from minbar.connectors.types import MediaItem, MediaRules
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput
from minbar.media import actions
from minbar.media.models import MediaRendition
from minbar.media.processing import (
    Fit,
    Level,
    check_for,
    human_size,
    prepare_for,
    ratio_label,
    validate_for,
)
from minbar.media.tests.conftest import fake_mp4, image_bytes, noise_bytes, upload
from minbar.workspaces.access import access_for

MB = 1024 * 1024
INSTAGRAM = MediaRules(
    image_types=("image/jpeg",),
    video_types=("video/mp4", "video/quicktime"),
    max_images=10,
    max_videos=10,
    max_image_bytes=8 * MB,
    max_video_bytes=300 * MB,
    min_aspect_ratio=4 / 5,
    max_aspect_ratio=1.91,
    alt_text=True,
)
ANYTHING = MediaRules(
    image_types=("image/jpeg", "image/png", "image/webp", "image/gif"),
    video_types=("video/mp4",),
    max_images=4,
    max_videos=1,
    alt_text=True,
    alt_text_max_length=1000,
)


def _ratio(prepared) -> float:
    assert prepared.width and prepared.height
    return prepared.width / prepared.height


def _rgb(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = im.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def _asset(world, name, data, **extra):
    [outcome] = actions.upload(
        Actor(user=world.alice), access_for(world.alice, "acme"), [upload(name, data)], **extra
    )
    return outcome.asset


def test_ratio_labels_read_like_people_write_them():
    assert ratio_label(4 / 5) == "4:5"
    assert ratio_label(1.91) == "1.91:1"
    assert ratio_label(9 / 16) == "9:16"
    assert ratio_label(1.0) == "1:1"
    assert ratio_label(1080 / 1350) == "4:5"
    assert human_size(8 * MB) == "8 MB" and human_size(int(3.25 * MB)) == "3.2 MB"


def test_validate_for_explains_what_minbar_will_do(world):
    asset = _asset(world, "story.png", image_bytes("PNG", size=(90, 160)))
    messages = validate_for(asset, INSTAGRAM, network="Instagram")
    assert messages == [
        "Instagram takes JPEG images only; this one is PNG — Minbar will convert it to JPEG.",
        "Instagram needs an aspect ratio between 4:5 and 1.91:1; this image is 9:16 — "
        "Minbar will pad it.",
        "This file has no alt text; add a description so that people who use screen readers "
        "know what it shows.",
    ]
    cropped = validate_for(asset, INSTAGRAM, network="Instagram", fit=Fit.CROP)
    assert cropped[1].endswith("this image is 9:16 — Minbar will crop it.")
    levels = [c.level for c in check_for(asset, INSTAGRAM, network="Instagram")]
    assert levels == [Level.CHANGE, Level.CHANGE, Level.WARNING]


def test_validate_for_is_empty_when_the_file_fits(world):
    asset = _asset(world, "square.jpg", image_bytes(size=(100, 100)), alt_text="A red square")
    assert validate_for(asset, INSTAGRAM, network="Instagram") == []
    assert validate_for(asset, ANYTHING) == []


def test_validate_for_networks_without_images_or_alt_text(world):
    asset = _asset(world, "a.jpg", image_bytes(), alt_text="x" * 1200)
    assert validate_for(asset, MediaRules(), network="Telegraph") == [
        "Telegraph does not accept images."
    ]
    assert validate_for(asset, ANYTHING, network="X") == [
        "X takes alt text of up to 1000 characters; this one has 1200 — Minbar will shorten it."
    ]
    no_alt = MediaRules(image_types=("image/jpeg",), max_images=1)
    assert validate_for(asset, no_alt) == [
        "This network has no alt text; the description will not be sent."
    ]


def test_validate_for_size_limit(world):
    asset = _asset(world, "noise.png", noise_bytes("PNG", size=(200, 200)))
    rules = MediaRules(image_types=("image/png",), max_images=1, max_image_bytes=50 * 1024)
    [message] = validate_for(asset, rules, network="Bluesky")
    assert message.startswith("Bluesky takes images of up to 50 KB; this one is ")
    assert message.endswith(" — Minbar will make it smaller.")


def test_prepare_for_returns_the_stored_file_when_it_fits(world, media_root):
    asset = _asset(world, "square.jpg", image_bytes(size=(100, 100)), alt_text="A red square")
    prepared = prepare_for(asset, INSTAGRAM)
    assert prepared.path == str(media_root / asset.file.name)
    assert (prepared.mime_type, prepared.width, prepared.height) == ("image/jpeg", 100, 100)
    assert prepared.alt_text == "A red square"
    assert prepared.as_media_item() == MediaItem(
        path=prepared.path, mime_type="image/jpeg", alt_text="A red square", width=100, height=100
    )
    assert not MediaRendition.objects.exists()


def test_prepare_for_converts_png_to_jpeg_when_only_jpeg_is_taken(world, media_root):
    asset = _asset(
        world, "logo.png", image_bytes("PNG", size=(100, 100), mode="RGBA", color=(0, 0, 255, 0))
    )
    rules = MediaRules(image_types=("image/jpeg",), max_images=1)
    prepared = prepare_for(asset, rules)
    assert prepared.mime_type == "image/jpeg" and prepared.path.endswith(".jpg")
    with Image.open(prepared.path) as made:
        assert made.format == "JPEG" and made.mode == "RGB"
        assert made.getpixel((50, 50)) == (255, 255, 255)  # see-through became white
    # Cached: the second call reuses the rendition.
    again = prepare_for(asset, rules)
    assert again.path == prepared.path
    assert MediaRendition.objects.filter(asset=asset).count() == 1
    # Transparent images go to PNG when the network takes it.
    png_ok = prepare_for(asset, MediaRules(image_types=("image/webp", "image/png"), max_images=1))
    assert png_ok.mime_type == "image/png" and png_ok.path == str(media_root / asset.file.name)


def test_prepare_for_webp_becomes_jpeg_or_png(world):
    asset = _asset(world, "photo.webp", image_bytes("WEBP", size=(120, 80)))
    prepared = prepare_for(asset, MediaRules(image_types=("image/jpeg", "image/png"), max_images=1))
    assert prepared.mime_type == "image/jpeg"
    with Image.open(prepared.path) as made:
        assert made.format == "JPEG" and made.size == (120, 80)


def test_prepare_for_meets_the_byte_limit_by_re_encoding(world):
    asset = _asset(world, "noise.png", noise_bytes("PNG", size=(500, 400)))
    limit = 60 * 1024
    assert asset.bytes > limit
    rules = MediaRules(image_types=("image/jpeg", "image/png"), max_images=1, max_image_bytes=limit)
    [message] = validate_for(asset, rules)
    assert message.endswith("— Minbar will make it smaller.")
    prepared = prepare_for(asset, rules)
    assert prepared.mime_type == "image/jpeg"  # photos are smaller as JPEG
    size = Path(prepared.path).stat().st_size
    assert size <= limit
    with Image.open(prepared.path) as made:
        assert made.size == (prepared.width, prepared.height)


def test_prepare_for_shrinks_dimensions_when_quality_is_not_enough(world):
    asset = _asset(world, "noise.jpg", noise_bytes("JPEG", size=(800, 600)))
    rules = MediaRules(image_types=("image/jpeg",), max_images=1, max_image_bytes=40 * 1024)
    prepared = prepare_for(asset, rules)
    assert Path(prepared.path).stat().st_size <= 40 * 1024
    assert prepared.width is not None and prepared.width < 800
    assert abs(_ratio(prepared) - 800 / 600) < 0.02


def test_prepare_for_gives_up_clearly_when_an_image_cannot_get_small_enough(world):
    asset = _asset(world, "noise.png", noise_bytes("PNG", size=(400, 400)))
    rules = MediaRules(image_types=("image/png",), max_images=1, max_image_bytes=200)
    with pytest.raises(InvalidInput) as caught:
        prepare_for(asset, rules, network="Tiny")
    assert "Minbar could not make this image small enough for Tiny (200 bytes)" in str(caught.value)


def test_prepare_for_pads_to_the_aspect_ratio_range(world):
    asset = _asset(world, "story.jpg", image_bytes(size=(90, 160), color=(200, 0, 0)))
    prepared = prepare_for(asset, INSTAGRAM)
    assert (prepared.width, prepared.height) == (128, 160)  # 4:5
    with Image.open(prepared.path) as made:
        assert made.size == (128, 160)
        assert made.getpixel((2, 80)) == (255, 255, 255)  # the band
        red = _rgb(made, (64, 80))
        assert red[0] > 180 and red[1] < 40  # the picture, in the middle
    wide = _asset(world, "banner.jpg", image_bytes(size=(400, 100)))
    padded = prepare_for(wide, INSTAGRAM)
    assert padded.width == 400 and _ratio(padded) <= 1.91


def test_prepare_for_crops_when_asked(world):
    asset = _asset(world, "story.jpg", image_bytes(size=(90, 160)))
    prepared = prepare_for(asset, INSTAGRAM, fit=Fit.CROP)
    assert (prepared.width, prepared.height) == (90, 112)
    assert 4 / 5 <= _ratio(prepared) <= 1.91
    padded = prepare_for(asset, INSTAGRAM, fit=Fit.PAD)
    assert padded.path != prepared.path  # cached separately
    assert MediaRendition.objects.filter(asset=asset).count() == 2


def test_the_default_fit_is_a_setting(world, settings):
    settings.MINBAR_MEDIA_ASPECT_FIT = "crop"
    asset = _asset(world, "story.jpg", image_bytes(size=(90, 160)))
    assert (prepare_for(asset, INSTAGRAM).width, prepare_for(asset, INSTAGRAM).height) == (90, 112)


def test_a_missing_rendition_file_is_made_again(world):
    asset = _asset(world, "story.png", image_bytes("PNG", size=(90, 160)))
    first = prepare_for(asset, INSTAGRAM)
    os.remove(first.path)
    again = prepare_for(asset, INSTAGRAM)
    assert os.path.exists(again.path)
    assert MediaRendition.objects.filter(asset=asset).count() == 1


def test_animated_gif_becomes_its_first_frame_where_gifs_are_not_taken(world):
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    asset = _asset(world, "blink.gif", out.getvalue())
    rules = MediaRules(image_types=("image/jpeg",), max_images=1)
    assert "Minbar will post the first frame" in " ".join(validate_for(asset, rules))
    prepared = prepare_for(asset, rules)
    with Image.open(prepared.path) as made:
        assert made.format == "JPEG"
        assert _rgb(made, (20, 20))[0] > 200
    # Where GIFs are taken but the shape is wrong, every frame is padded.
    gif_rules = MediaRules(image_types=("image/gif",), max_images=1, min_aspect_ratio=1.5)
    padded = prepare_for(asset, gif_rules)
    with Image.open(padded.path) as made:
        assert made.format == "GIF" and getattr(made, "n_frames", 1) == 2 and made.size == (60, 40)


def test_long_alt_text_is_shortened_for_the_network(world):
    alt = "A cup of coffee on a wooden table " * 5
    asset = _asset(world, "a.jpg", image_bytes(), alt_text=alt)
    prepared = prepare_for(
        asset,
        MediaRules(
            image_types=("image/jpeg",), max_images=1, alt_text=True, alt_text_max_length=50
        ),
    )
    assert len(prepared.alt_text) <= 50 and prepared.alt_text.endswith("…")
    assert prepared.alt_text.startswith("A cup of coffee")


def test_videos_are_checked_but_never_converted(world):
    asset = _asset(world, "clip.mp4", fake_mp4())
    assert validate_for(asset, INSTAGRAM, network="Instagram") == [
        "Minbar could not check this video's length and dimensions because ffprobe is not "
        "installed; Instagram may still refuse it.",
        "This file has no alt text; add a description so that people who use screen readers "
        "know what it shows.",
    ]
    prepared = prepare_for(asset, INSTAGRAM)
    assert prepared.mime_type == "video/mp4" and prepared.path.endswith(".mp4")
    webm_only = MediaRules(video_types=("video/webm",), max_videos=1)
    [message, _unchecked] = validate_for(asset, webm_only, network="Vid")
    assert message == (
        "Vid takes WebM videos only; this one is MP4. Minbar does not convert videos: "
        "export it as WebM and upload it again."
    )
    with pytest.raises(InvalidInput):
        prepare_for(asset, webm_only)
    assert validate_for(asset, MediaRules(image_types=("image/jpeg",), max_images=4)) == [
        "This network does not accept videos."
    ]


def test_probed_video_aspect_ratio_and_size_are_checked(world):
    asset = _asset(world, "clip.mp4", fake_mp4())
    asset.probed, asset.width, asset.height, asset.duration = True, 1080, 1920, 30.0
    asset.bytes = 400 * MB
    messages = validate_for(asset, INSTAGRAM, network="Instagram")
    assert "Instagram takes videos of up to 300 MB; this one is 400 MB." in messages
    assert (
        "Instagram needs an aspect ratio between 4:5 and 1.91:1; this video is 9:16 — edit it "
        "before posting; Minbar does not change videos."
    ) in messages
