from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor
from minbar.channels import actions, choices
from minbar.channels.models import Channel
from minbar.connectors.options import options_for
from minbar.core.errors import NotAllowed, NotFound
from minbar.workspaces.roles import Perm

router = Router(tags=["channels"])


class ChannelOut(Schema):
    id: int
    network: str
    server_url: str
    handle: str
    name: str
    avatar_url: str
    profile_url: str
    health: str
    health_message: str
    rate_limited_until: datetime | None
    last_checked_at: datetime | None
    token_expires_at: datetime | None
    created_at: datetime


class ConnectIn(Schema):
    network: str
    fields: dict[str, str] = {}


class OAuthIn(Schema):
    network: str
    server_url: str = ""


class OAuthOut(Schema):
    authorize_url: str
    redirect_uri: str


class AuthFieldOut(Schema):
    name: str
    label: str
    secret: bool
    choices: list[str]


class NetworkOut(Schema):
    network: str
    label: str
    auth: str
    needs_server_url: bool
    default_server_url: str
    auth_fields: list[AuthFieldOut]
    text_max_length: int
    text_counting: str
    text_max_bytes: int | None
    max_images: int
    max_videos: int
    post_types: list[str]
    threads: bool
    first_comment: bool
    post_metrics: list[str]
    account_metrics: list[str]
    interactions: list[str]
    search: bool
    setup_doc: str


@router.get("/networks", response=list[NetworkOut], summary="Networks Minbar can connect to")
def list_networks(request: HttpRequest) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for cls in actions.available_networks():
        caps = cls.capabilities
        rows.append(
            {
                "network": caps.network,
                "label": str(caps.label),
                "auth": caps.auth.value,
                "needs_server_url": caps.needs_server_url,
                "default_server_url": caps.default_server_url,
                "auth_fields": [
                    {
                        "name": f.name,
                        "label": str(f.label),
                        "secret": f.secret,
                        "choices": [value for value, _label in f.choices],
                    }
                    for f in cls.auth_fields
                ],
                "text_max_length": caps.text.max_length,
                "text_counting": caps.text.counting.value,
                "text_max_bytes": caps.text.max_bytes,
                "max_images": caps.media.max_images,
                "max_videos": caps.media.max_videos,
                "post_types": sorted(p.value for p in caps.post_types),
                "threads": caps.threads,
                "first_comment": caps.first_comment,
                "post_metrics": sorted(caps.post_metrics),
                "account_metrics": sorted(caps.account_metrics),
                "interactions": sorted(i.value for i in caps.interactions),
                "search": caps.search,
                "setup_doc": caps.setup_doc,
            }
        )
    return rows


@router.get("/workspaces/{slug}/channels", response=list[ChannelOut])
@paginate(Page)
def list_channels(request: HttpRequest, slug: str) -> QuerySet[Channel]:
    access = api_access(request, slug)
    if not access.can(Perm.VIEW_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    return Channel.objects.filter(workspace=access.workspace)


def _channel(request: HttpRequest, slug: str, channel_id: int) -> Channel:
    access = api_access(request, slug)
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None or not access.can(Perm.VIEW_CONTENT):
        raise NotFound(_("No such channel."))
    return channel


@router.get("/workspaces/{slug}/channels/{channel_id}", response={200: ChannelOut, 404: ErrorOut})
def get_channel(request: HttpRequest, slug: str, channel_id: int) -> Channel:
    return _channel(request, slug, channel_id)


@router.post(
    "/workspaces/{slug}/channels",
    response={201: ChannelOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Connect a channel with an app password, token, or the sandbox",
)
def connect_channel(request: HttpRequest, slug: str, payload: ConnectIn) -> Status:
    access = api_access(request, slug)
    channel = actions.connect_with_fields(
        api_actor(request), access, payload.network, payload.fields
    )
    return Status(201, channel)


@router.post(
    "/workspaces/{slug}/channel-sign-ins",
    response={200: OAuthOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Start connecting a channel through the network's sign-in page",
)
def start_oauth(request: HttpRequest, slug: str, payload: OAuthIn) -> dict[str, str]:
    access = api_access(request, slug)
    url = actions.start_oauth(api_actor(request), access, payload.network, payload.server_url)
    return {"authorize_url": url, "redirect_uri": actions.oauth_redirect_uri()}


@router.post(
    "/workspaces/{slug}/channels/{channel_id}/test",
    response={200: ChannelOut, 404: ErrorOut},
    summary="Test the connection now",
)
def test_channel(request: HttpRequest, slug: str, channel_id: int) -> Channel:
    channel = _channel(request, slug, channel_id)
    return actions.check_channel(channel)


@router.delete(
    "/workspaces/{slug}/channels/{channel_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def remove_channel(request: HttpRequest, slug: str, channel_id: int) -> Status:
    access = api_access(request, slug)
    actions.disconnect(api_actor(request), access, channel_id)
    return Status(204, None)


class AccountChoiceOut(Schema):
    remote_id: str
    name: str
    kind: str
    detail: str
    channel_id: int | None  # the channel already connected for it in this workspace


class AccountChoicesIn(Schema):
    remote_ids: list[str] = []  # empty: refused by the action with a clear message


@router.get(
    "/workspaces/{slug}/channels/{channel_id}/account-choices",
    response={200: list[AccountChoiceOut], 404: ErrorOut},
    summary="Other accounts this channel's sign-in can act for (Pages, organizations, boards)",
)
def list_account_choices(
    request: HttpRequest, slug: str, channel_id: int
) -> list[dict[str, object]]:
    channel = _channel(request, slug, channel_id)
    return [
        {
            "remote_id": item.choice.remote_id,
            "name": item.choice.name,
            "kind": item.choice.kind,
            "detail": item.choice.detail,
            "channel_id": item.channel.pk if item.channel else None,
        }
        for item in choices.offered(channel)
    ]


@router.post(
    "/workspaces/{slug}/channels/{channel_id}/account-choices",
    response={201: list[ChannelOut], 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Connect some of those accounts as channels of their own",
)
def connect_account_choices(
    request: HttpRequest, slug: str, channel_id: int, payload: AccountChoicesIn
) -> Status:
    access = api_access(request, slug)
    made = choices.connect_choices(api_actor(request), access, channel_id, payload.remote_ids)
    return Status(201, made)


class PostOptionChoiceOut(Schema):
    value: str
    label: str


class PostOptionOut(Schema):
    key: str
    label: str
    kind: str  # choice, text, long_text, tags, date, time, datetime, url, flag
    choices: list[PostOptionChoiceOut]
    default: str
    required: bool
    help: str
    max_length: int | None
    # Applies only when the option ``key`` has one of ``values`` (else not sent).
    shown_when: dict[str, object] | None


@router.get(
    "/workspaces/{slug}/channels/{channel_id}/post-options",
    response={200: list[PostOptionOut], 404: ErrorOut},
    summary="The settings a post can set on this channel (a post variant's options)",
)
def list_post_options(request: HttpRequest, slug: str, channel_id: int) -> list[dict[str, object]]:
    channel = _channel(request, slug, channel_id)
    return [
        {
            "key": option.key,
            "label": str(option.label),
            "kind": str(option.kind),
            "choices": [{"value": v, "label": str(label)} for v, label in option.choices],
            "default": option.default,
            "required": option.required,
            "help": str(option.help),
            "max_length": option.max_length,
            "shown_when": {"key": option.shown_when[0], "values": list(option.shown_when[1])}
            if option.shown_when
            else None,
        }
        for option in options_for(actions.connector_for(channel).account_capabilities())
    ]
