"""The media library pages; files are served only through views that check membership."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput
from minbar.media import actions, processing, queries, ranges
from minbar.media.actions import UploadRefused
from minbar.media.forms import AssetForm, UploadForm
from minbar.media.models import Kind, MediaAsset
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm

PER_PAGE = 48


def _asset_or_404(access: WorkspaceAccess, asset_id: int) -> MediaAsset:
    try:
        return actions.get_asset(access, asset_id)
    except ActionError:
        raise Http404 from None


def _filters(request: HttpRequest) -> dict[str, str]:
    return {
        "q": request.GET.get("q", "")[:200],
        "folder": request.GET.get("folder", "")[:200],
        "tag": request.GET.get("tag", "")[:100],
        "kind": request.GET.get("kind", "") if request.GET.get("kind") in Kind.values else "",
    }


def _library_context(request: HttpRequest, access: WorkspaceAccess, **extra: Any) -> dict[str, Any]:
    filters = _filters(request)
    assets = queries.library(access, **filters)
    page = Paginator(assets, PER_PAGE).get_page(request.GET.get("page"))
    query = {k: v for k, v in filters.items() if v}
    limits = processing.media_limits()
    can_edit = access.can(Perm.CREATE_CONTENT)
    return {
        "page": page,
        "cards": [(asset, AssetForm(asset=asset) if can_edit else None) for asset in page],
        "filters": filters,
        "filtered": bool(query),
        "query": urlencode(query),
        "folders": queries.folders_of(access.workspace),
        "tags": queries.tags_of(access.workspace),
        "kinds": Kind.choices,
        "can_edit": can_edit,
        "accept": ",".join(processing.ACCEPTED_TYPES),
        "max_image": processing.human_size(limits.max_image_bytes),
        "max_video": processing.human_size(limits.max_video_bytes),
        "max_files": limits.max_files,
        "upload_form": UploadForm(),
        "next": request.get_full_path(),
        **extra,
    }


@workspace_view(Perm.VIEW_CONTENT)
@require_GET
def library(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    context = _library_context(request, access)
    if getattr(request, "htmx", False) and request.htmx.target == "media-results":  # type: ignore[attr-defined]
        return render(request, "media/_results.html", context)
    return render(request, "media/library.html", context)


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def upload(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    form = UploadForm(request.POST)
    files = request.FILES.getlist("files")
    outcomes: list[actions.UploadOutcome] = []
    problems: list[tuple[str, str]] = []
    not_saved: list[str] = []
    error = ""
    if form.is_valid():
        try:
            outcomes = actions.upload(
                Actor.from_request(request), access, files, **form.cleaned_data
            )
        except UploadRefused as exc:
            problems, not_saved, error = exc.problems, exc.accepted, exc.message
        except InvalidInput as exc:
            error = exc.message
            for field, text in exc.fields.items():
                form.add_error(field if field in form.fields else None, text)
    else:
        error = _("Some fields are not valid.")
    ok = not error
    results = {
        "outcomes": outcomes,
        "problems": problems,
        "not_saved": not_saved,
        "error": error,
        "show_list": len(problems) + len(not_saved) > 1,
        "upload_form": form,
    }
    if getattr(request, "htmx", False):
        # htmx swaps only successful responses; the partial says what went wrong.
        response = render(request, "media/_upload_results.html", results)
        if ok:
            response["HX-Trigger"] = "mediaUploaded"
        return response
    if ok:
        for outcome in outcomes:
            if outcome.created:
                messages.success(request, _("%(name)s was uploaded.") % {"name": outcome.filename})
            else:
                messages.info(
                    request,
                    _("%(name)s is already in the library as %(existing)s.")
                    % {"name": outcome.filename, "existing": outcome.asset.original_filename},
                )
        return redirect("media:library", slug=access.workspace.slug)
    context = _library_context(request, access, **results)
    return render(request, "media/library.html", context, status=422)


@workspace_view(Perm.VIEW_CONTENT)
@require_GET
def detail(request: HttpRequest, access: WorkspaceAccess, asset_id: int) -> HttpResponse:
    asset = _asset_or_404(access, asset_id)
    return render(request, "media/detail.html", _detail_context(access, asset))


def _detail_context(
    access: WorkspaceAccess, asset: MediaAsset, form: AssetForm | None = None
) -> dict[str, Any]:
    return {
        "asset": asset,
        "form": form or AssetForm(asset=asset),
        "fits": queries.channel_fits(asset),
        "can_edit": access.can(Perm.CREATE_CONTENT),
        "download_name": download_name(asset),
    }


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def edit(request: HttpRequest, access: WorkspaceAccess, asset_id: int) -> HttpResponse:
    asset = _asset_or_404(access, asset_id)
    form = AssetForm(request.POST, asset=asset)
    saved = False
    if form.is_valid():
        try:
            asset = actions.update_asset(
                Actor.from_request(request), access, asset_id, **form.cleaned_data
            )
            saved = True
        except InvalidInput as exc:
            for field, text in exc.fields.items():
                form.add_error(field if field in form.fields else None, text)
            if not exc.fields:
                form.add_error(None, exc.message)
    if saved:
        form = AssetForm(asset=asset)
    if getattr(request, "htmx", False):
        template = (
            "media/_edit_form.html" if request.POST.get("view") == "detail" else "media/_card.html"
        )
        return render(
            request,
            template,
            {
                "asset": asset,
                "form": form,
                "can_edit": True,
                "saved": saved,
                "editing": not saved,
                "next": request.POST.get("next", ""),
            },
        )
    if saved:
        messages.success(request, _("The changes to %(name)s were saved.") % {"name": asset})
        next_url = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            return redirect(next_url)
        return redirect("media:detail", slug=access.workspace.slug, asset_id=asset.pk)
    return render(request, "media/detail.html", _detail_context(access, asset, form), status=422)


@workspace_view(Perm.CREATE_CONTENT)
def delete(request: HttpRequest, access: WorkspaceAccess, asset_id: int) -> HttpResponse:
    asset = _asset_or_404(access, asset_id)
    if request.method == "POST":
        actions.delete_asset(Actor.from_request(request), access, asset_id)
        messages.success(request, _("%(name)s was deleted.") % {"name": asset})
        return redirect("media:library", slug=access.workspace.slug)
    return render(request, "media/delete.html", {"asset": asset})


def download_name(asset: MediaAsset) -> str:
    """The uploaded name with the extension of what the file really is."""
    stem = PurePath(asset.original_filename).stem or "media"
    return stem + processing.EXTENSIONS.get(asset.mime_type, "")


def _serve(
    name: str, mime_type: str, filename: str, *, download: bool, range_header: str | None = None
) -> HttpResponseBase:
    if not name or not default_storage.exists(name):
        raise Http404
    size = default_storage.size(name)
    wanted = ranges.parse(range_header, size)
    response: HttpResponseBase
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if isinstance(wanted, tuple):
        first, last = wanted
        response = StreamingHttpResponse(
            ranges.chunks(default_storage.open(name, "rb"), first, last),
            status=206,
            content_type=mime_type,
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    else:
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type=mime_type,
            as_attachment=download,
            filename=filename,
        )
    response["Accept-Ranges"] = "bytes"
    # Each workspace's files are private: never cached by shared caches, never
    # embedded by other sites, never run as a page.
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def serve_asset_file(
    asset: MediaAsset, *, download: bool = False, range_header: str | None = None
) -> HttpResponseBase:
    return _serve(
        asset.file.name or "",
        asset.mime_type,
        download_name(asset),
        download=download,
        range_header=range_header,
    )


def serve_asset_thumbnail(asset: MediaAsset) -> HttpResponseBase:
    return _serve(
        asset.thumbnail.name or "", asset.thumbnail_mime_type, "thumbnail", download=False
    )


@workspace_view(Perm.VIEW_CONTENT)
@require_GET
def serve_file(request: HttpRequest, access: WorkspaceAccess, asset_id: int) -> HttpResponseBase:
    asset = _asset_or_404(access, asset_id)
    return serve_asset_file(
        asset,
        download=request.GET.get("download") == "1",
        range_header=request.headers.get("Range"),
    )


@workspace_view(Perm.VIEW_CONTENT)
@require_GET
def serve_thumbnail(
    request: HttpRequest, access: WorkspaceAccess, asset_id: int
) -> HttpResponseBase:
    return serve_asset_thumbnail(_asset_or_404(access, asset_id))
