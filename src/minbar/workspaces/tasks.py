from __future__ import annotations

from huey.contrib.djhuey import db_task

from minbar.workspaces.models import Invitation


@db_task(retries=3, retry_delay=60)
def send_invitation_email(invitation_id: int, url: str) -> bool:
    """Mail an invitation from the worker so a slow mail server never blocks the page."""
    from minbar.workspaces.actions import deliver_invitation

    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return False
    deliver_invitation(invitation, url)
    return True
