"""The media library API: list, upload (multipart), read, describe and file, delete, download."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor
from minbar.media import actions, queries, views
from minbar.media.models import MediaAsset

router = Router(tags=["media"])


class MediaOut(Schema):
    id: int
    kind: str
    mime_type: str
    original_filename: str
    width: int | None
    height: int | None
    duration: float | None
    animated: bool
    bytes: int
    sha256: str
    alt_text: str
    folder: str
    tags: list[str]
    uploaded_by: str | None
    created_at: datetime
    updated_at: datetime
    file_url: str
    thumbnail_url: str | None

    @staticmethod
    def resolve_uploaded_by(obj: MediaAsset) -> str | None:
        return obj.uploaded_by.username if obj.uploaded_by else None

    @staticmethod
    def resolve_file_url(obj: MediaAsset) -> str:
        return reverse("api:media_file", kwargs={"slug": obj.workspace.slug, "asset_id": obj.pk})

    @staticmethod
    def resolve_thumbnail_url(obj: MediaAsset) -> str | None:
        if not obj.thumbnail:
            return None
        return reverse(
            "api:media_thumbnail", kwargs={"slug": obj.workspace.slug, "asset_id": obj.pk}
        )


class UploadItemOut(Schema):
    filename: str
    created: bool
    asset: MediaOut


class UploadOut(Schema):
    items: list[UploadItemOut]


class MediaPatchIn(Schema):
    alt_text: str | None = None
    folder: str | None = None
    tags: list[str] | None = None


@router.get("/workspaces/{slug}/media", response={200: list[MediaOut], 403: ErrorOut})
@paginate(Page)
def list_media(
    request: HttpRequest,
    slug: str,
    q: str = "",
    folder: str = "",
    tag: str = "",
    kind: str = "",
) -> QuerySet[MediaAsset]:
    """Newest first. ``q`` searches file names and alt text; ``folder`` includes sub-folders."""
    access = api_access(request, slug)
    return queries.library(access, q=q, folder=folder, tag=tag, kind=kind)


@router.post(
    "/workspaces/{slug}/media",
    response={200: UploadOut, 201: UploadOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Upload one or more files (multipart, field name `files`)",
)
def upload_media(
    request: HttpRequest,
    slug: str,
    files: File[list[UploadedFile] | None] = None,
    folder: Form[str] = "",
    tags: Form[str] = "",
    alt_text: Form[str] = "",
) -> Status:
    """All or nothing: when a file cannot be used, 422 names it in ``fields`` and nothing is
    saved. A file already in the library comes back with ``created: false``."""
    # Access is checked before the files: outsiders get 404 whatever they send.
    access = api_access(request, slug)
    outcomes = actions.upload(
        api_actor(request), access, files or [], folder=folder, tags=tags, alt_text=alt_text
    )
    items = [{"filename": o.filename, "created": o.created, "asset": o.asset} for o in outcomes]
    return Status(201 if any(o.created for o in outcomes) else 200, {"items": items})


@router.get("/workspaces/{slug}/media/{asset_id}", response={200: MediaOut, 404: ErrorOut})
def get_media(request: HttpRequest, slug: str, asset_id: int) -> MediaAsset:
    return actions.get_asset(api_access(request, slug), asset_id)


@router.patch(
    "/workspaces/{slug}/media/{asset_id}",
    response={200: MediaOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Change alt text, folder or tags",
)
def update_media(
    request: HttpRequest, slug: str, asset_id: int, payload: MediaPatchIn
) -> MediaAsset:
    access = api_access(request, slug)
    return actions.update_asset(
        api_actor(request),
        access,
        asset_id,
        alt_text=payload.alt_text,
        folder=payload.folder,
        tags=payload.tags,
    )


@router.delete(
    "/workspaces/{slug}/media/{asset_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def delete_media(request: HttpRequest, slug: str, asset_id: int) -> Status:
    actions.delete_asset(api_actor(request), api_access(request, slug), asset_id)
    return Status(204, None)


@router.get(
    "/workspaces/{slug}/media/{asset_id}/file",
    response={404: ErrorOut},
    url_name="media_file",
    summary="Download the file",
)
def download_media(request: HttpRequest, slug: str, asset_id: int) -> HttpResponseBase:
    asset = actions.get_asset(api_access(request, slug), asset_id)
    return views.serve_asset_file(asset, download=True, range_header=request.headers.get("Range"))


@router.get(
    "/workspaces/{slug}/media/{asset_id}/thumbnail",
    response={404: ErrorOut},
    url_name="media_thumbnail",
    summary="Download the 320-pixel preview",
)
def download_thumbnail(request: HttpRequest, slug: str, asset_id: int) -> HttpResponseBase:
    asset = actions.get_asset(api_access(request, slug), asset_id)
    return views.serve_asset_thumbnail(asset)
