"""The composer's "Track links" toggle, rendered from the links app."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()

FIELD = "track_links"
SHOWN = "track_links_shown"


@register.inclusion_tag("links/_track_toggle.html")
def track_links_toggle(post: Any = None, form: QueryDict | None = None) -> dict[str, Any]:
    """Checked unless the post opted out (or the re-shown form had it unchecked)."""
    from minbar.links.actions import post_tracked, settings_for

    if form is not None and form.get(SHOWN):
        checked = bool(form.get(FIELD))
    else:
        checked = post is None or post_tracked(post.pk)
    workspace_on = True
    if post is not None:
        workspace_on = settings_for(post.workspace).auto_apply
    return {"checked": checked, "workspace_on": workspace_on}
