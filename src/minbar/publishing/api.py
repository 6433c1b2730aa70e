from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor
from minbar.core.errors import InvalidInput, NotFound
from minbar.publishing import actions, bulk
from minbar.publishing.actions import PostInput, Variant
from minbar.publishing.models import Post, Target
from minbar.workspaces.actions import validate_time_zone

router = Router(tags=["publishing"])


class TargetOut(Schema):
    id: int
    channel_id: int
    state: str
    due_at: datetime | None
    attempts: int
    text: str
    last_error_kind: str
    last_error_message: str
    remote_id: str
    remote_url: str
    published_at: datetime | None

    @staticmethod
    def resolve_text(obj: Target) -> str:
        return obj.effective_text


class PostOut(Schema):
    id: int
    state: str
    text: str
    link: str
    first_comment: str
    thread: list[str]
    tags: list[str]
    scheduled_at: datetime | None
    version: int
    created_at: datetime
    targets: list[TargetOut]

    @staticmethod
    def resolve_targets(obj: Post) -> list[Target]:
        return list(obj.targets.all())


class VariantIn(Schema):
    text: str | None = None
    first_comment: str = ""


class PostIn(Schema):
    text: str = ""
    link: str = ""
    first_comment: str = ""
    thread: list[str] = []
    channels: list[int] = []
    variants: dict[int, VariantIn] = {}
    tags: list[str] = []
    notes: str = ""
    when: str = "draft"
    scheduled_at: datetime | None = None

    def to_input(self) -> PostInput:
        return PostInput(
            text=self.text,
            link=self.link,
            first_comment=self.first_comment,
            thread=self.thread,
            channel_ids=self.channels,
            variants={
                cid: Variant(text=v.text, first_comment=v.first_comment)
                for cid, v in self.variants.items()
            },
            tags=self.tags,
            notes=self.notes,
            when=self.when,
            scheduled_at=self.scheduled_at,
            scheduled_time_zone="UTC" if self.scheduled_at else "",
        )


class CommentIn(Schema):
    comment: str = ""


@router.get("/{slug}/posts", response=list[PostOut])
@paginate(Page)
def list_posts(request: HttpRequest, slug: str, state: str = "") -> QuerySet[Post]:
    access = api_access(request, slug)
    posts = Post.objects.filter(workspace=access.workspace).prefetch_related("targets")
    if not actions.can_view(access):
        return posts.none()
    return posts.filter(state=state) if state else posts


@router.post(
    "/{slug}/posts",
    response={201: PostOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Write a post; when is draft, now, or at (scheduled_at, ISO 8601 with offset)",
)
def create_post(request: HttpRequest, slug: str, payload: PostIn) -> Status:
    access = api_access(request, slug)
    return Status(201, actions.create_post(api_actor(request), access, payload.to_input()))


@router.get("/{slug}/posts/{post_id}", response={200: PostOut, 404: ErrorOut})
def get_post(request: HttpRequest, slug: str, post_id: int) -> Post:
    return actions.get_post(api_access(request, slug), post_id)


@router.put(
    "/{slug}/posts/{post_id}",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def update_post(request: HttpRequest, slug: str, post_id: int, payload: PostIn) -> Post:
    access = api_access(request, slug)
    return actions.update_post(api_actor(request), access, post_id, payload.to_input())


@router.post(
    "/{slug}/posts/{post_id}/approve",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def approve(request: HttpRequest, slug: str, post_id: int, payload: CommentIn) -> Post:
    access = api_access(request, slug)
    return actions.approve_post(api_actor(request), access, post_id, payload.comment)


@router.post(
    "/{slug}/posts/{post_id}/request-changes",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def request_changes(request: HttpRequest, slug: str, post_id: int, payload: CommentIn) -> Post:
    access = api_access(request, slug)
    return actions.reject_post(api_actor(request), access, post_id, payload.comment)


@router.post(
    "/{slug}/posts/{post_id}/cancel",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def cancel(request: HttpRequest, slug: str, post_id: int) -> Post:
    access = api_access(request, slug)
    return actions.cancel_post(api_actor(request), access, post_id)


@router.post(
    "/{slug}/posts/{post_id}/targets/{target_id}/retry",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def retry(request: HttpRequest, slug: str, post_id: int, target_id: int) -> Post:
    access = api_access(request, slug)
    post = actions.get_post(access, post_id)
    if not post.targets.filter(pk=target_id).exists():
        raise NotFound(_("No such post."))
    actions.retry(api_actor(request), access, target_id)
    return post


class RescheduleIn(Schema):
    # Checked after the workspace, so outsiders learn nothing from a 422.
    at: datetime | None = None


@router.post(
    "/{slug}/posts/{post_id}/targets/{target_id}/reschedule",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Give a failed, held or unconfirmed channel a new time (at: ISO 8601 with offset)",
)
def reschedule(
    request: HttpRequest, slug: str, post_id: int, target_id: int, payload: RescheduleIn
) -> Post:
    access = api_access(request, slug)
    post = actions.get_post(access, post_id)
    if not post.targets.filter(pk=target_id).exists():
        raise NotFound(_("No such post."))
    if payload.at is None or timezone.is_naive(payload.at):
        raise InvalidInput(
            _("Give the time with its UTC offset, e.g. 2026-05-01T09:00:00+03:00."),
            fields={"at": _("Add the UTC offset.")},
        )
    actions.reschedule_target(api_actor(request), access, target_id, payload.at)
    post.refresh_from_db()
    return post


class ImportOut(Schema):
    created: int
    post_ids: list[int]


@router.post(
    "/{slug}/post-imports",
    response={201: ImportOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Import posts from a CSV file (all rows or none)",
)
def import_posts(
    request: HttpRequest,
    slug: str,
    file: UploadedFile | None = File(None),  # noqa: B008 - django-ninja's way to declare it
    time_zone: str = "UTC",
) -> Status:
    # The workspace is checked before the body, so outsiders learn nothing.
    access = api_access(request, slug)
    if file is None:
        raise InvalidInput(_("Attach the CSV file as “file”."), fields={"file": _("Required.")})
    created = bulk.import_csv(
        api_actor(request), access, file.read(), validate_time_zone(time_zone)
    )
    return Status(201, {"created": len(created), "post_ids": [p.pk for p in created]})
