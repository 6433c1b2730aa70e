"""Every state change of reports: PDFs on demand, schedules, and sending them.

Who may do what: anyone who sees analytics may download a report and see the
schedules; editors, admins and owners (``Perm.MANAGE_REPORTS``) create, change,
delete and send schedules.
"""

from __future__ import annotations

import logging
import secrets
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from minbar.analytics import reports as analytics
from minbar.analytics.reports import Period
from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.core.writes import write_transaction
from minbar.reports import pdf, timing
from minbar.reports.models import Frequency, ReportSchedule, ScopeKind
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm

logger = logging.getLogger("minbar.reports")

MAX_RECIPIENTS = 50
PREPARED_FOR = timedelta(hours=1)  # how long a prepared PDF waits for its download


def _require_view(access: WorkspaceAccess) -> None:
    if not access.can(Perm.VIEW_ANALYTICS):
        raise NotAllowed(_("Your role cannot see analytics reports."))


def _require_manage(access: WorkspaceAccess) -> None:
    if not access.can(Perm.MANAGE_REPORTS):
        raise NotAllowed(_("Your role cannot create, change or send scheduled reports."))


def _language(code: str) -> str:
    codes = [c for c, _name in settings.LANGUAGES]
    if code not in codes:
        raise InvalidInput(
            _("Choose the report's language: %(codes)s.") % {"codes": ", ".join(codes)},
            fields={"language": _("Not a language Minbar speaks.")},
        )
    return code


# -- PDFs on demand -----------------------------------------------------------------


def report_request(
    access: WorkspaceAccess,
    period: Period,
    *,
    language: str,
    channel_id: int | None = None,
    post_id: int | None = None,
    tag: str = "",
    rank_by: str = "engagements",
) -> pdf.ReportRequest:
    _require_view(access)
    scope = analytics.resolve_scope(access, channel_id=channel_id, post_id=post_id, tag=tag)
    return pdf.ReportRequest(
        scope=scope,
        period=period,
        language=_language(language),
        rank_by="rate" if rank_by == "rate" else "engagements",
    )


def render_report(access: WorkspaceAccess, request: pdf.ReportRequest) -> bytes:
    _require_view(access)
    return pdf.render_pdf(access, request)


def _prepared_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prepare_report(access: WorkspaceAccess, request: pdf.ReportRequest) -> str:
    """Render the PDF and keep it for a download link; returns the link's token.

    The page asks for this while showing "preparing…", then downloads the file,
    so a slow report never leaves the page without feedback.
    """
    content = render_report(access, request)
    folder = _prepared_dir()
    cutoff = clock.time() - PREPARED_FOR.total_seconds()
    for old in folder.glob("*.pdf"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    name = pdf.filename(access.workspace.slug, request)
    (folder / f"{access.workspace.pk}-{token}.pdf").write_bytes(content)
    (folder / f"{access.workspace.pk}-{token}.name").write_text(name)
    return token


def prepared_report(access: WorkspaceAccess, token: str) -> tuple[str, bytes]:
    """A prepared PDF of this workspace (file name, content); 404 for anything else."""
    _require_view(access)
    if not token or not all(c.isalnum() or c in "-_" for c in token):
        raise NotFound(_("This report is no longer available; prepare it again."))
    base = _prepared_dir() / f"{access.workspace.pk}-{token}"
    path, name = base.with_suffix(".pdf"), base.with_suffix(".name")
    if not path.exists() or path.stat().st_mtime < clock.time() - PREPARED_FOR.total_seconds():
        raise NotFound(_("This report is no longer available; prepare it again."))
    return name.read_text() if name.exists() else path.name, path.read_bytes()


# -- schedules --------------------------------------------------------------------


@dataclass
class ScheduleInput:
    name: str
    frequency: str = Frequency.WEEKLY
    weekday: int = 0
    day_of_month: int = 1
    hour: int = 9
    language: str = "en"
    scope: str = ScopeKind.WORKSPACE
    channel_id: int | None = None
    post_id: int | None = None
    tag: str = ""
    member_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    enabled: bool = True


def schedules_for(access: WorkspaceAccess) -> QuerySet[ReportSchedule]:
    _require_view(access)
    return (
        ReportSchedule.objects.filter(workspace=access.workspace)
        .select_related("channel", "post", "owner")
        .prefetch_related("members")
    )


def get_schedule(access: WorkspaceAccess, schedule_id: int) -> ReportSchedule:
    found = schedules_for(access).filter(pk=schedule_id).first()
    if found is None:
        raise NotFound(_("No such scheduled report."))
    return found


def _clean(access: WorkspaceAccess, data: ScheduleInput) -> dict[str, object]:
    """Checked and normalised fields, or InvalidInput naming every field that is wrong."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = _("Give the report a name.")
    elif len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    if data.frequency not in Frequency.values:
        errors["frequency"] = _("Choose weekly or monthly.")
    if not 0 <= data.weekday <= 6:
        errors["weekday"] = _("Choose a day of the week.")
    if not 1 <= data.day_of_month <= 31:
        errors["day_of_month"] = _("Choose a day between 1 and 31.")
    if not 0 <= data.hour <= 23:
        errors["hour"] = _("Choose an hour between 0 and 23.")
    if data.language not in [c for c, _n in settings.LANGUAGES]:
        errors["language"] = _("Not a language Minbar speaks.")
    channel_id = post_id = None
    tag = ""
    if data.scope == ScopeKind.CHANNEL:
        if not data.channel_id:
            errors["channel"] = _("Choose the channel.")
        else:
            channel_id = data.channel_id
    elif data.scope == ScopeKind.POST:
        if not data.post_id:
            errors["post"] = _("Give the post's number.")
        else:
            post_id = data.post_id
    elif data.scope == ScopeKind.TAG:
        tag = data.tag.strip().lstrip("#")
        if not tag or len(tag) > 100:
            errors["tag"] = _("Give a tag of 1 to 100 characters.")
    elif data.scope != ScopeKind.WORKSPACE:
        errors["scope"] = _("Choose what the report covers.")
    if channel_id or post_id:
        try:
            analytics.resolve_scope(access, channel_id=channel_id, post_id=post_id)
        except NotFound as exc:
            errors["channel" if channel_id else "post"] = exc.message
    members = set(data.member_ids)
    known = set(
        Membership.objects.filter(
            workspace=access.workspace, user_id__in=members, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if members - known:
        errors["members"] = _("Choose people who are members of this workspace.")
    emails: list[str] = []
    for raw in data.emails:
        address = raw.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            errors["emails"] = _("“%(address)s” is not an email address.") % {"address": address}
            break
        if address.lower() not in {e.lower() for e in emails}:
            emails.append(address)
    if not errors and not members and not emails:
        errors["members"] = _("Choose at least one member or give an email address.")
    if len(members) + len(emails) > MAX_RECIPIENTS:
        errors["emails"] = _("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}
    if errors:
        raise InvalidInput(_("Some fields need a change."), fields=errors)
    return {
        "name": name,
        "frequency": data.frequency,
        "weekday": data.weekday,
        "day_of_month": data.day_of_month,
        "hour": data.hour,
        "language": data.language,
        "scope": data.scope,
        "channel_id": channel_id,
        "post_id": post_id,
        "tag": tag,
        "emails": emails,
        "enabled": data.enabled,
        "members": sorted(known),
    }


def schedule_zone(schedule: ReportSchedule) -> ZoneInfo:
    return pdf.workspace_zone(schedule.workspace.time_zone)


def schedule_next_run(schedule: ReportSchedule, after: datetime) -> datetime | None:
    if not schedule.enabled:
        return None
    return timing.next_run(
        schedule.frequency,
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
        hour=schedule.hour,
        zone=schedule_zone(schedule),
        after=after,
    )


def _save(actor: Actor, access: WorkspaceAccess, schedule: ReportSchedule, data: ScheduleInput):  # type: ignore[no-untyped-def]
    fields = _clean(access, data)
    members = fields.pop("members")
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.owner = actor.user
    schedule.updated_at = timezone.now()
    schedule.next_run_at = schedule_next_run(schedule, timezone.now())
    # Only the fields edited here: a worker may be recording a send at the same time.
    edited = [*fields, "owner", "updated_at", "next_run_at"]
    with write_transaction():
        if schedule.pk is None:
            schedule.save()
        else:
            schedule.save(update_fields=edited)
        schedule.members.set(members)  # type: ignore[arg-type]


def create_schedule(actor: Actor, access: WorkspaceAccess, data: ScheduleInput) -> ReportSchedule:
    _require_manage(access)
    schedule = ReportSchedule(workspace=access.workspace)
    _save(actor, access, schedule, data)
    record(actor, "report_schedule.created", workspace=access.workspace, target=schedule)
    return schedule


def update_schedule(
    actor: Actor, access: WorkspaceAccess, schedule_id: int, data: ScheduleInput
) -> ReportSchedule:
    _require_manage(access)
    schedule = get_schedule(access, schedule_id)
    _save(actor, access, schedule, data)
    record(actor, "report_schedule.updated", workspace=access.workspace, target=schedule)
    return schedule


def delete_schedule(actor: Actor, access: WorkspaceAccess, schedule_id: int) -> None:
    _require_manage(access)
    schedule = get_schedule(access, schedule_id)
    record(actor, "report_schedule.deleted", workspace=access.workspace, target=schedule)
    schedule.delete()


def request_send_now(actor: Actor, access: WorkspaceAccess, schedule_id: int) -> ReportSchedule:
    """Queue the report for sending at once (the period it would cover if due today)."""
    from minbar.reports import tasks

    _require_manage(access)
    schedule = get_schedule(access, schedule_id)
    record(actor, "report_schedule.sent", workspace=access.workspace, target=schedule)
    tasks.send_report_now(schedule.pk)
    return schedule


# -- sending ------------------------------------------------------------------------


def claim(schedule_id: int, run_at: datetime, following: datetime | None, now: datetime) -> bool:
    """Move the schedule's next run from ``run_at`` to ``following``; False if another did."""
    with write_transaction():
        return bool(
            ReportSchedule.objects.filter(pk=schedule_id, enabled=True, next_run_at=run_at).update(
                next_run_at=following, last_attempt_at=now
            )
        )


def claim_due(now: datetime) -> list[tuple[int, datetime]]:
    """Schedules due at ``now``, each claimed by moving its next run on (compare-and-set).

    Two workers looking at once both see a due schedule, but only one UPDATE
    still finds the old ``next_run_at``: that worker sends it, the other does not.
    Returns each claimed schedule with the latest run time it stands for: after
    a stop of the workers, one report for the most recent period, not one per
    missed run.
    """
    claimed = []
    due = ReportSchedule.objects.filter(enabled=True, next_run_at__lte=now).select_related(
        "workspace"
    )
    for schedule in due:
        run_at = schedule.next_run_at
        assert run_at is not None
        latest = run_at
        following = schedule_next_run(schedule, latest)
        while following is not None and following <= now:
            latest, following = following, schedule_next_run(schedule, following)
        if claim(schedule.pk, run_at, following, now):
            claimed.append((schedule.pk, latest))
    return claimed


def send_due(now: datetime | None = None) -> int:
    """Send every report that is due; returns how many were claimed by this worker."""
    now = now or timezone.now()
    claimed = claim_due(now)
    for schedule_id, run_at in claimed:
        schedule = ReportSchedule.objects.select_related("workspace").get(pk=schedule_id)
        deliver(schedule, run_at.astimezone(schedule_zone(schedule)).date())
    return len(claimed)


def _owner_access(schedule: ReportSchedule) -> WorkspaceAccess:
    membership = (
        Membership.objects.filter(workspace=schedule.workspace, user=schedule.owner)
        .select_related("workspace", "user")
        .first()
        if schedule.owner_id
        else None
    )
    access = (
        WorkspaceAccess(schedule.workspace, membership, membership.role) if membership else None
    )
    if access is None or not access.can(Perm.VIEW_ANALYTICS) or not membership.user.is_active:  # type: ignore[union-attr]
        raise NotAllowed(
            _(
                "The person who last saved this schedule can no longer see analytics here; "
                "someone who can should open it and save it again."
            )
        )
    return access


def recipients(schedule: ReportSchedule) -> list[str]:
    """Current members chosen (still members, with an address) and the other addresses."""
    member_ids = [u.pk for u in schedule.members.all()]
    addresses = list(
        Membership.objects.filter(
            workspace_id=schedule.workspace_id, user_id__in=member_ids, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    for address in schedule.emails:
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Delivery:
    sent_to: list[str]
    failed: list[str]
    error: str


def deliver(schedule: ReportSchedule, run_day: date) -> Delivery:
    """Render the report for the period ending before ``run_day`` and email it.

    Any failure is kept on the schedule (``last_error``) and logged; a partial
    failure names the addresses that did not get it.
    """
    zone = schedule_zone(schedule)
    period = timing.covered_period(schedule.frequency, run_day, zone)
    now = timezone.now()
    try:
        access = _owner_access(schedule)
        if (schedule.scope == ScopeKind.CHANNEL and schedule.channel_id is None) or (
            schedule.scope == ScopeKind.POST and schedule.post_id is None
        ):
            raise NotFound(
                _("The channel or post this report covers was removed; edit or delete it.")
            )
        request = report_request(
            access,
            period,
            language=schedule.language,
            channel_id=schedule.channel_id,
            post_id=schedule.post_id,
            tag=schedule.tag if schedule.scope == ScopeKind.TAG else "",
        )
        to = recipients(schedule)
        if not to:
            raise InvalidInput(_("No one to send to: every member chosen has left."))
        content = pdf.render_pdf(access, request)
        summary = _summary_context(access, request, schedule)
        sent, failed = _email(schedule, request, summary, content, to)
    except Exception as exc:  # recorded and shown on the schedule, never silent
        logger.exception("scheduled report %s could not be sent", schedule.pk)
        message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
        _finish(schedule, now, error=message)
        return Delivery([], [], message)
    error = ""
    if failed:
        error = _("Could not send to %(addresses)s.") % {"addresses": ", ".join(failed)}
    _finish(schedule, now, error=error, sent=bool(sent))
    return Delivery(sent, failed, error)


def _finish(schedule: ReportSchedule, now: datetime, *, error: str, sent: bool = False) -> None:
    changes: dict[str, object] = {"last_attempt_at": now, "last_error": error[:2000]}
    if sent:
        changes["last_sent_at"] = now
    with write_transaction():
        ReportSchedule.objects.filter(pk=schedule.pk).update(**changes)
    if error and schedule.owner_id:
        from minbar.notifications.actions import notify

        owner = schedule.owner
        assert owner is not None
        notify(
            [owner],
            kind="report.failed",
            workspace=schedule.workspace,
            title=lambda: (
                _("The scheduled report “%(name)s” was not sent") % {"name": schedule.name}
            ),
            body=lambda: error,
            url=reverse("reports:schedules", args=[schedule.workspace.slug]),
            email=False,
        )


def _summary_context(
    access: WorkspaceAccess, request: pdf.ReportRequest, schedule: ReportSchedule
) -> dict[str, object]:
    """A few key figures for the email body, in the report's language."""
    from minbar.analytics.views import kpi_label, kpi_text, not_provided

    with translation.override(request.language), timezone.override(request.period.zone):
        result = analytics.overview(access, request.scope, request.period)
        from minbar.analytics import charts

        return {
            "schedule": schedule,
            "workspace_name": schedule.workspace.name,
            "scope_label": pdf.scope_label(request.scope),
            "period_text": pdf.period_text(request.period),
            "rtl": translation.get_language_bidi(),
            "language": request.language,
            "kpis": [
                {
                    "label": kpi_label(k.key),
                    "value": kpi_text(k, k.value),
                    "change": charts.signed_percent(k.change),
                    "note": k.unavailable or not_provided(k.missing),
                }
                for k in result.kpis[:6]
            ],
            "url": f"{settings.MINBAR_BASE_URL}/w/{schedule.workspace.slug}/analytics/",
            "generated": formats.date_format(timezone.localtime(), "DATETIME_FORMAT"),
        }


def _email(
    schedule: ReportSchedule,
    request: pdf.ReportRequest,
    summary: dict[str, object],
    content: bytes,
    to: list[str],
) -> tuple[list[str], list[str]]:
    """One message per recipient (no one sees the others' addresses)."""
    with translation.override(request.language):
        subject = _("%(name)s: %(workspace)s, %(period)s") % {
            "name": schedule.name,
            "workspace": schedule.workspace.name,
            "period": summary["period_text"],
        }
        text = render_to_string("reports/email.txt", summary)
        html = render_to_string("reports/email.html", summary)
    name = pdf.filename(schedule.workspace.slug, request)
    sent, failed = [], []
    for address in to:
        message = EmailMultiAlternatives(subject, text, None, [address])
        message.attach_alternative(html, "text/html")
        message.attach(name, content, "application/pdf")
        try:
            message.send()
        except OSError:
            logger.warning("could not email a scheduled report to one recipient", exc_info=True)
            failed.append(address)
        else:
            sent.append(address)
    return sent, failed
