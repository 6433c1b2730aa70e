"""Autosave in the composer: nothing typed is lost to a closed tab or a crash.

The live check (``views.check``) already receives the whole form as the person
types; it keeps a copy here. Opening the composer again offers the copy back.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils import timezone

from minbar.accounts.models import User
from minbar.publishing.models import ComposerDraft, Post
from minbar.workspaces.models import Workspace

# Fields that are the person's content (not the CSRF token or HTMX's own).
SKIPPED = {"csrfmiddlewaretoken"}
MAX_BYTES = 200_000


def keep(user: User, workspace: Workspace, post: Post | None, form: QueryDict) -> None:
    data = {key: form.getlist(key) for key in form if key not in SKIPPED}
    if sum(len(v) for values in data.values() for v in values) > MAX_BYTES:
        return  # absurdly large: not worth keeping, the form still holds it
    found = ComposerDraft.objects.filter(user=user, workspace=workspace, post=post).first()
    if found is None:
        ComposerDraft.objects.create(user=user, workspace=workspace, post=post, data=data)
    else:
        ComposerDraft.objects.filter(pk=found.pk).update(data=data, saved_at=timezone.now())


def waiting(user: User, workspace: Workspace, post: Post | None) -> ComposerDraft | None:
    """Unsaved typing newer than the post itself, if any."""
    found = (
        ComposerDraft.objects.filter(user=user, workspace=workspace, post=post)
        .order_by("-saved_at")
        .first()
    )
    if found is None or (post is not None and found.saved_at <= post.updated_at):
        return None
    return found


def as_form(draft: ComposerDraft) -> QueryDict:
    form = QueryDict(mutable=True)
    for key, values in draft.data.items():
        form.setlist(key, [str(v) for v in values])
    return form


def forget(user: User, workspace: Workspace, post: Post | None) -> None:
    ComposerDraft.objects.filter(user=user, workspace=workspace, post=post).delete()
