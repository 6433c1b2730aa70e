"""PDF documents in the library: sniffed, previewed, checked per network, handed to LinkedIn."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.x import XConnector
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput
from minbar.media import actions, processing
from minbar.media.models import Kind
from minbar.media.tests.conftest import image_bytes, upload
from minbar.publishing.target_media import check_media
from minbar.workspaces.access import access_for

# Looked up before the media tests hide ffmpeg (they patch shutil.which); the test
# command installs poppler-utils, so this is never None where the suite runs.
PDFTOPPM = shutil.which("pdftoppm")


@pytest.fixture(autouse=True)
def real_pdftoppm(monkeypatch):
    monkeypatch.setattr(processing, "pdftoppm_path", lambda: PDFTOPPM)


def pdf_bytes(pages: int = 2) -> bytes:
    """A real PDF (Pillow writes one page per image)."""
    out = io.BytesIO()
    first, *rest = [Image.new("RGB", (200, 280), (20 * i, 90, 160)) for i in range(pages)]
    first.save(out, "PDF", save_all=True, append_images=rest)
    return out.getvalue()


def _upload(world, *files, **extra):
    return actions.upload(
        Actor(user=world.alice), access_for(world.alice, "acme"), list(files), **extra
    )


def test_a_pdf_is_stored_as_uploaded_with_its_first_page_as_preview(world, media_root):
    data = pdf_bytes()
    [result] = _upload(world, upload("Winter menu.pdf", data))
    asset = result.asset
    assert (asset.kind, asset.mime_type, asset.type_label) == (
        Kind.DOCUMENT,
        "application/pdf",
        "PDF",
    )
    assert Path(asset.file.path).read_bytes() == data
    assert asset.width is None and asset.duration is None
    assert PDFTOPPM, "pdftoppm is missing: install poppler-utils (./scripts/test does)"
    assert asset.thumbnail and asset.thumbnail_mime_type in ("image/jpeg", "image/png")


def test_without_pdftoppm_a_pdf_has_no_preview_but_is_kept(world, media_root, monkeypatch):
    monkeypatch.setattr(processing, "pdftoppm_path", lambda: None)
    [result] = _upload(world, upload("deck.pdf", pdf_bytes(1)))
    assert result.asset.kind == Kind.DOCUMENT and not result.asset.thumbnail


def test_a_pdf_over_100_mb_is_refused_naming_the_limit(world, monkeypatch):
    monkeypatch.setattr(processing, "MAX_DOCUMENT_BYTES", 1024)
    with pytest.raises(actions.UploadRefused) as caught:
        _upload(world, upload("big.pdf", pdf_bytes(3) + b"0" * 4096))
    assert "documents can be at most 1 KB" in str(caught.value.problems)


def test_only_networks_that_take_documents_accept_one_and_it_goes_alone(world, media_root):
    [doc] = _upload(world, upload("deck.pdf", pdf_bytes(1)))
    [photo] = _upload(world, upload("cup.jpg", image_bytes()))
    assets = {doc.asset.pk: doc.asset, photo.asset.pk: photo.asset}
    only_doc = [{"asset": doc.asset.pk, "alt_text": ""}]
    linkedin = LinkedInConnector.capabilities
    assert check_media(linkedin, only_doc, assets).problems == []
    x_problems = check_media(XConnector.capabilities, only_doc, assets).problems
    assert x_problems == ["deck.pdf: X does not take documents; attach images or a video instead."]
    both = [*only_doc, {"asset": photo.asset.pk, "alt_text": "A cup"}]
    assert (
        "LinkedIn: a document goes alone, without images or videos."
        in check_media(linkedin, both, assets).problems
    )


def test_prepared_document_carries_its_title(world, media_root):
    [doc] = _upload(world, upload("Winter menu.pdf", pdf_bytes(1)))
    prepared = processing.prepare_for(
        doc.asset, LinkedInConnector.capabilities.media, network="LinkedIn"
    )
    assert prepared.mime_type == "application/pdf" and prepared.alt_text == "Winter menu"
    doc.asset.alt_text = "Menu, winter 2026"
    assert processing.prepare_for(doc.asset, LinkedInConnector.capabilities.media).alt_text == (
        "Menu, winter 2026"
    )
    with pytest.raises(InvalidInput, match="does not take documents"):
        processing.prepare_for(doc.asset, XConnector.capabilities.media, network="X")
