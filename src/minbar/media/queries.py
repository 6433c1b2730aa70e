"""Reading the media library: filters, folders and tags, and how a file fits each channel."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from minbar.core.errors import ActionError, NotAllowed
from minbar.media.models import Kind, MediaAsset
from minbar.media.processing import MediaCheck, check_for
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Workspace
from minbar.workspaces.roles import Perm


def require_view(access: WorkspaceAccess) -> None:
    if not access.can(Perm.VIEW_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))


def library(
    access: WorkspaceAccess,
    *,
    q: str = "",
    folder: str = "",
    tag: str = "",
    kind: str = "",
) -> QuerySet[MediaAsset]:
    """The workspace's assets, newest first; ``folder`` includes its sub-folders."""
    require_view(access)
    assets = MediaAsset.objects.filter(workspace=access.workspace).select_related(
        "workspace", "uploaded_by"
    )
    q = " ".join(q.split())
    if q:
        assets = assets.filter(Q(original_filename__icontains=q) | Q(alt_text__icontains=q))
    folder = folder.strip().strip("/")
    if folder:
        assets = assets.filter(Q(folder=folder) | Q(folder__startswith=folder + "/"))
    tag = " ".join(tag.split()).lstrip("#")
    if tag:
        assets = assets.filter(tag_index__contains="|" + tag.casefold() + "|")
    if kind in Kind.values:
        assets = assets.filter(kind=kind)
    return assets


def folders_of(workspace: Workspace) -> list[str]:
    """Every folder in use, with the folders above them ("a", "a/b")."""
    found: set[str] = set()
    for folder in (
        MediaAsset.objects.filter(workspace=workspace)
        .exclude(folder="")
        .values_list("folder", flat=True)
        .distinct()
    ):
        parts = folder.split("/")
        found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found, key=str.casefold)


def tags_of(workspace: Workspace) -> list[str]:
    found: dict[str, str] = {}
    for tags in (
        MediaAsset.objects.filter(workspace=workspace)
        .exclude(tags=[])
        .values_list("tags", flat=True)
    ):
        for tag in tags or []:
            found.setdefault(str(tag).casefold(), str(tag))
    return sorted(found.values(), key=str.casefold)


@dataclass(frozen=True)
class ChannelFit:
    channel_name: str
    network: str
    checks: list[MediaCheck]


def channel_fits(asset: MediaAsset) -> list[ChannelFit]:
    """How ``asset`` fits each channel of its workspace, read from the stored capabilities."""
    from minbar.channels.actions import connector_for
    from minbar.channels.models import Channel

    fits: list[ChannelFit] = []
    for channel in Channel.objects.filter(workspace_id=asset.workspace_id):
        try:
            caps = connector_for(channel).account_capabilities()
        except ActionError:
            continue
        fits.append(
            ChannelFit(
                channel_name=channel.display_name,
                network=str(caps.label),
                checks=check_for(asset, caps.media, network=caps.label),
            )
        )
    return fits
