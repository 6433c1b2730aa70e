"""Uploading: type sniffed from the content, limits, dedupe, all or nothing, metadata removed."""

from __future__ import annotations

import io
import sys
import textwrap

import pytest
from PIL import Image

from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.media import actions
from minbar.media.actions import UploadRefused
from minbar.media.models import Kind, MediaAsset
from minbar.media.tests.conftest import (
    fake_mp4,
    image_bytes,
    stored_files,
    upload,
)
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role


def _upload(world, *files, user=None, **extra):
    user = user or world.alice
    return actions.upload(Actor(user=user), access_for(user, "acme"), list(files), **extra)


def test_a_jpg_that_is_really_a_png_is_stored_as_a_png(world, media_root):
    [outcome] = _upload(world, upload("photo.jpg", image_bytes("PNG")))
    asset = outcome.asset
    assert outcome.created
    assert asset.mime_type == "image/png" and asset.kind == Kind.IMAGE
    assert asset.original_filename == "photo.jpg"
    assert asset.file.name.startswith(f"{world.acme.pk}/originals/")
    assert asset.file.name.endswith(".png")
    assert (asset.width, asset.height) == (64, 48)
    with Image.open(media_root / asset.file.name) as stored:
        assert stored.format == "PNG"
    assert asset.thumbnail.name and (media_root / asset.thumbnail.name).exists()
    assert AuditEvent.objects.filter(action="media.uploaded", workspace=world.acme).count() == 1


def test_a_text_file_named_png_is_refused_and_nothing_is_saved(world, media_root):
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload("notes.png", b"shopping list: beans, milk\n" * 10))
    assert caught.value.message.startswith("notes.png: this is not an image, a video or a document")
    assert "JPEG, PNG, GIF or WebP" in caught.value.message
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "photo.heic",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100,
            "photo.heic: HEIC images are not supported; export as JPEG or PNG",
        ),
        (
            "scan.tiff",
            image_bytes("TIFF"),
            "scan.tiff: TIFF images are not supported; export as JPEG or PNG",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
            "logo.svg: SVG images are not supported; export as PNG",
        ),
        ("clip.mkv", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska" + b"\0" * 64, "MKV videos"),
        ("empty.jpg", b"", "empty.jpg: the file is empty"),
        (
            "song.m4a",
            b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom" + b"\0" * 64,
            "song.m4a: audio files are not supported",
        ),
        (
            "drawing.svg",
            b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- made by hand -->\n'
            b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "drawing.svg: SVG images are not supported",
        ),
        (
            "cut.png",
            image_bytes("PNG", size=(300, 300), color=(1, 2, 3))[:-40],
            "cut.png: the image could not be read",
        ),
    ],
)
def test_refusals_name_the_file_and_say_what_to_do(world, name, data, expected):
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload(name, data))
    assert expected in caught.value.message
    assert not MediaAsset.objects.exists()


def test_one_bad_file_saves_nothing_and_every_problem_is_named(world, media_root):
    with pytest.raises(UploadRefused) as caught:
        _upload(
            world,
            upload("good.jpg", image_bytes()),
            upload("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 9),
            upload("notes.png", b"hello"),
        )
    error = caught.value
    assert "Nothing was uploaded: 2 of 3 files cannot be used" in error.message
    assert set(error.fields) == {"photo.heic", "notes.png"}
    assert error.accepted == ["good.jpg"]
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []


def test_the_same_file_twice_is_stored_once(world, media_root):
    data = image_bytes(color=(1, 120, 200))
    [first] = _upload(world, upload("a.jpg", data), folder="Launch")
    [again] = _upload(world, upload("copy-of-a.jpg", data))
    assert again.asset.pk == first.asset.pk and not again.created
    assert again.asset.original_filename == "a.jpg"
    same_batch = _upload(
        world, upload("b.png", image_bytes("PNG")), upload("c.png", image_bytes("PNG"))
    )
    assert [o.created for o in same_batch] == [True, False]
    assert same_batch[0].asset.pk == same_batch[1].asset.pk
    assert MediaAsset.objects.count() == 2
    # Another workspace keeps its own copy.
    charlie = world.charlie
    [theirs] = actions.upload(
        Actor(user=charlie), access_for(charlie, "globex"), [upload("a.jpg", data)]
    )
    assert theirs.created and theirs.asset.workspace == world.globex
    assert (theirs.asset.file.name or "").startswith(f"{world.globex.pk}/")


def test_size_limits_are_configurable_and_explained(world, settings):
    settings.MINBAR_MEDIA_MAX_IMAGE_BYTES = 1000
    settings.MINBAR_MEDIA_MAX_VIDEO_BYTES = 4000
    big = image_bytes("PNG", size=(400, 400), color=(10, 20, 30))
    big += b"\0" * max(0, 1500 - len(big))
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload("big.png", big))
    assert "big.png: images can be at most 1000 bytes" in caught.value.message
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload("clip.mp4", fake_mp4(b"\0" * 5000)))
    assert "clip.mp4: videos can be at most 3.9 KB; this one is 5 KB." in caught.value.message


def test_too_many_pixels_is_refused(world, settings):
    settings.MINBAR_MEDIA_MAX_IMAGE_PIXELS = 100 * 100
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload("wide.jpg", image_bytes(size=(200, 100))))
    assert "200 \u00d7 100 pixels" in caught.value.message


def test_exif_orientation_is_applied_and_gps_removed(world, media_root):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    data = image_bytes(size=(40, 20), exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif()[0x0112] == 6 and original.size == (40, 20)
    [outcome] = _upload(world, upload("phone.jpg", data))
    asset = outcome.asset
    assert (asset.width, asset.height) == (20, 40)
    stored_path = media_root / asset.file.name
    raw = stored_path.read_bytes()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw
    with Image.open(stored_path) as stored:
        assert stored.size == (20, 40)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info and "xmp" not in stored.info


def test_png_text_and_gif_comments_are_removed(world, media_root):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 51.5N 0.1W")
    png = image_bytes("PNG", pnginfo=info)
    gif = image_bytes("GIF", mode="P", color=(3,), comment=b"secret place")
    outcomes = _upload(world, upload("a.png", png), upload("b.gif", gif))
    png_raw = (media_root / outcomes[0].asset.file.name).read_bytes()
    gif_raw = (media_root / outcomes[1].asset.file.name).read_bytes()
    assert b"51.5N" not in png_raw
    assert b"secret place" not in gif_raw
    assert outcomes[1].asset.kind == Kind.GIF and outcomes[1].asset.mime_type == "image/gif"


def test_animated_gif_keeps_its_frames(world, media_root):
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    [outcome] = _upload(world, upload("spin.gif", out.getvalue()))
    assert outcome.asset.animated and outcome.asset.kind == Kind.GIF
    with Image.open(media_root / outcome.asset.file.name) as stored:
        assert getattr(stored, "n_frames", 1) == 3


def test_transparency_is_noticed(world):
    [clear] = _upload(
        world, upload("logo.png", image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0)))
    )
    [opaque] = _upload(
        world, upload("shot.png", image_bytes("PNG", mode="RGBA", color=(9, 9, 9, 255)))
    )
    assert clear.asset.transparent and clear.asset.thumbnail_mime_type == "image/png"
    assert not opaque.asset.transparent and opaque.asset.thumbnail_mime_type == "image/jpeg"


def test_folder_tags_and_alt_text_are_cleaned(world):
    [outcome] = _upload(
        world,
        upload("a.jpg", image_bytes()),
        folder=" Campaigns /  Ramadan 2026 / ",
        tags="#Launch, إطلاق، launch,  summer  sale ",
        alt_text="  فنجان قهوة على طاولة خشبية  ",
    )
    asset = outcome.asset
    assert asset.folder == "Campaigns/Ramadan 2026"
    assert asset.tags == ["Launch", "إطلاق", "summer sale"]
    assert asset.alt_text == "فنجان قهوة على طاولة خشبية"
    assert asset.tag_index == "|launch|إطلاق|summer sale|"


def test_only_members_who_create_content_can_upload(world):
    from conftest import make_user

    analyst = make_user("dana")
    Membership.objects.create(user=analyst, workspace=world.acme, role=Role.ANALYST)
    with pytest.raises(NotAllowed):
        _upload(world, upload("a.jpg", image_bytes()), user=analyst)
    [ok] = _upload(world, upload("a.jpg", image_bytes()), user=world.bob)
    assert ok.asset.uploaded_by == world.bob


def test_no_files_and_too_many_files(world, settings):
    with pytest.raises(InvalidInput) as caught:
        _upload(world)
    assert caught.value.fields == {"files": "Required."}
    settings.MINBAR_MEDIA_MAX_FILES_PER_UPLOAD = 2
    with pytest.raises(InvalidInput) as caught:
        _upload(world, *[upload(f"{i}.jpg", image_bytes(color=(i, i, i))) for i in range(3)])
    assert "up to 2 files at once" in caught.value.message


def test_update_and_delete_remove_files_and_are_audited(
    world, media_root, django_capture_on_commit_callbacks
):
    [outcome] = _upload(world, upload("a.jpg", image_bytes()))
    access = access_for(world.bob, "acme")
    asset = actions.update_asset(
        Actor(user=world.bob), access, outcome.asset.pk, alt_text="A red square", tags=["red"]
    )
    assert asset.alt_text == "A red square" and asset.tags == ["red"]
    assert MediaAsset.objects.get(pk=asset.pk).tag_index == "|red|"
    with pytest.raises(InvalidInput) as caught:
        actions.update_asset(Actor(user=world.bob), access, asset.pk, alt_text="x" * 2001)
    assert "alt_text" in caught.value.fields
    assert stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_asset(Actor(user=world.bob), access, asset.pk)
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
    actions_logged = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"media.uploaded", "media.updated", "media.deleted"} <= actions_logged


def _fake_program(tmp_path, name: str, body: str) -> str:
    script = tmp_path / name
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return str(script)


def test_videos_are_probed_and_stripped_when_ffprobe_and_ffmpeg_are_installed(
    world, settings, tmp_path, media_root
):
    settings.MINBAR_FFPROBE = _fake_program(
        tmp_path,
        "ffprobe",
        """
        import json, sys
        print(json.dumps({
            "streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920,
                         "height": 1080, "side_data_list": [{"rotation": -90}]}],
            "format": {"duration": "12.48"},
        }))
        """,
    )
    settings.MINBAR_FFMPEG = _fake_program(
        tmp_path,
        "ffmpeg",
        """
        import sys
        args = sys.argv[1:]
        if "-map_metadata" in args:
            source, target = args[args.index("-i") + 1], args[-1]
            data = open(source, "rb").read().replace(b"GPS-HERE", b"")
            open(target, "wb").write(data)
        else:
            sys.exit(1)  # no thumbnail
        """,
    )
    [outcome] = _upload(world, upload("clip.mov", fake_mp4(b"GPS-HERE")))
    asset = outcome.asset
    assert asset.kind == Kind.VIDEO and asset.mime_type == "video/mp4"
    assert (asset.width, asset.height, asset.duration) == (1080, 1920, 12.48)
    assert asset.probed and asset.duration_label == "0:12"
    assert b"GPS-HERE" not in (media_root / asset.file.name).read_bytes()
    assert not asset.thumbnail


def test_a_video_ffprobe_cannot_read_is_refused(world, settings, tmp_path):
    settings.MINBAR_FFPROBE = _fake_program(tmp_path, "ffprobe", "import sys\nsys.exit(1)\n")
    with pytest.raises(UploadRefused) as caught:
        _upload(world, upload("broken.mp4", fake_mp4()))
    assert "broken.mp4: the video could not be read" in caught.value.message


def test_without_ffprobe_a_video_is_kept_unchecked(world, media_root):
    data = fake_mp4(b"keep-me")
    [outcome] = _upload(world, upload("clip.mp4", data))
    asset = outcome.asset
    assert not asset.probed and asset.duration is None and asset.width is None
    assert (media_root / asset.file.name).read_bytes() == data


def test_phone_and_print_formats_are_read(world, media_root):
    first, second = Image.new("RGB", (60, 40), (250, 0, 0)), Image.new("RGB", (60, 40), (0, 0, 250))
    mpo = io.BytesIO()
    first.save(mpo, "MPO", save_all=True, append_images=[second])
    cmyk = image_bytes("JPEG", mode="CMYK", color=(0, 255, 255, 0))
    deep = image_bytes("PNG", mode="I;16", color=(40000,))
    outcomes = _upload(
        world,
        upload("phone.jpg", mpo.getvalue()),
        upload("print.jpg", cmyk),
        upload("deep.png", deep),
    )
    assert [o.asset.mime_type for o in outcomes] == ["image/jpeg", "image/jpeg", "image/png"]
    with Image.open(media_root / outcomes[0].asset.file.name) as stored:
        assert stored.format == "JPEG" and getattr(stored, "n_frames", 1) == 1
        pixel = stored.getpixel((30, 20))
        assert isinstance(pixel, tuple) and pixel[0] > 200  # the main picture
    with Image.open(media_root / outcomes[1].asset.file.name) as stored:
        assert stored.mode == "RGB"
    assert all(o.asset.thumbnail for o in outcomes)
