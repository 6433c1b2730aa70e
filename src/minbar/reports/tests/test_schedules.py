"""Scheduled email reports: validation, who may do what, claiming, sending and failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from conftest import make_user
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.notifications.models import Notification
from minbar.reports import actions, pdf
from minbar.reports.models import ReportSchedule
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role

FAKE_PDF = b"%PDF-1.7 a report"


@pytest.fixture(autouse=True)
def _quick_pdf(monkeypatch):
    """Rendering is tested in test_pdf; here a PDF stands in so tests stay fast."""
    monkeypatch.setattr(pdf, "render_pdf", lambda access, request: FAKE_PDF)


def _recording(asked: list[pdf.ReportRequest]):
    def render(access, request: pdf.ReportRequest) -> bytes:
        asked.append(request)
        return FAKE_PDF

    return render


def _html(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    return str(message.alternatives[0][0])


def _input(**changes) -> actions.ScheduleInput:
    data = {"name": "Weekly numbers", "language": "en", "emails": ["boss@client.example"]}
    return actions.ScheduleInput(**(data | changes))


def _create(world, **changes) -> ReportSchedule:
    access = access_for(world.alice, "acme")
    return actions.create_schedule(Actor(user=world.alice), access, _input(**changes))


# -- validation and permissions ---------------------------------------------------------


def test_schedule_without_recipients_is_refused_with_the_field_named(world):
    with pytest.raises(InvalidInput) as caught:
        _create(world, emails=[])
    assert "members" in caught.value.fields
    assert not ReportSchedule.objects.exists()


def test_schedule_with_a_bad_address_names_it(world):
    with pytest.raises(InvalidInput) as caught:
        _create(world, emails=["fine@example.com", "not-an-address"])
    assert "not-an-address" in caught.value.fields["emails"]


def test_outsider_cannot_be_chosen_as_a_recipient_member(world):
    with pytest.raises(InvalidInput) as caught:
        _create(world, member_ids=[world.charlie.pk], emails=[])
    assert "members" in caught.value.fields


def test_schedule_cannot_cover_a_channel_of_another_workspace(world):
    from minbar.analytics.tests.helpers import fake_channel

    theirs = fake_channel(world.globex, "pulse", "@globex")
    with pytest.raises(InvalidInput) as caught:
        _create(world, scope="channel", channel_id=theirs.pk)
    assert "channel" in caught.value.fields


def test_new_schedule_gets_its_next_run_in_the_workspace_zone(world):
    world.acme.time_zone = "Asia/Riyadh"
    world.acme.save()
    schedule = _create(world, frequency="monthly", day_of_month=1, hour=8)
    assert schedule.next_run_at is not None
    local = schedule.next_run_at.astimezone(pdf.workspace_zone("Asia/Riyadh"))
    assert (local.day, local.hour, local.minute) == (1, 8, 0)
    assert schedule.owner == world.alice


def test_paused_schedule_has_no_next_run(world):
    assert _create(world, enabled=False).next_run_at is None


def test_member_editor_can_manage_schedules(world):
    access = access_for(world.bob, "acme")
    schedule = actions.create_schedule(Actor(user=world.bob), access, _input())
    actions.update_schedule(
        Actor(user=world.bob),
        access,
        schedule.pk,
        _input(name="Renamed", scope="tag", tag="#launch"),
    )
    schedule.refresh_from_db()
    assert (schedule.name, schedule.scope, schedule.tag) == ("Renamed", "tag", "launch")


def test_analyst_sees_schedules_but_cannot_create_them(world):
    dana = make_user("dana")
    Membership.objects.create(user=dana, workspace=world.acme, role=Role.ANALYST)
    _create(world)
    access = access_for(dana, "acme")
    assert actions.schedules_for(access).count() == 1
    with pytest.raises(NotAllowed):
        actions.create_schedule(Actor(user=dana), access, _input())


# -- claiming and sending ---------------------------------------------------------------


def test_due_report_is_emailed_once_with_the_pdf_attached(world, measured):
    schedule = _create(world, member_ids=[world.bob.pk])
    due = schedule.next_run_at
    assert due is not None
    assert actions.send_due(due + timedelta(seconds=30)) == 1
    assert actions.send_due(due + timedelta(seconds=31)) == 0  # already claimed and sent
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.com", "boss@client.example"]
    message = mail.outbox[0]
    assert message.attachments[0][1] == FAKE_PDF
    assert message.attachments[0][2] == "application/pdf"
    html = _html(message)
    assert "Acme Roasters" in html and "Engagements" in html
    schedule.refresh_from_db()
    assert schedule.last_sent_at is not None and schedule.last_error == ""
    assert schedule.next_run_at == due + timedelta(days=7)


def test_weekly_report_covers_the_week_before_the_run_day(world, measured, monkeypatch):
    asked: list[pdf.ReportRequest] = []
    monkeypatch.setattr(pdf, "render_pdf", _recording(asked))
    schedule = _create(world)
    due = schedule.next_run_at
    assert due is not None
    actions.send_due(due)
    (request,) = asked
    run_day = due.astimezone(pdf.workspace_zone("Europe/London")).date()
    assert request.period.last_day == run_day - timedelta(days=1)
    assert request.period.days == 7


def test_a_second_worker_with_a_stale_view_does_not_claim_again(world):
    schedule = _create(world)
    due = schedule.next_run_at
    assert due is not None
    following = due + timedelta(days=7)
    now = due + timedelta(seconds=5)
    assert actions.claim(schedule.pk, due, following, now) is True
    # The other worker read next_run_at before the first one moved it on.
    assert actions.claim(schedule.pk, due, following, now) is False


def test_arabic_schedule_writes_the_email_in_arabic(world, measured):
    schedule = _create(world, language="ar")
    assert schedule.next_run_at is not None
    actions.send_due(schedule.next_run_at)
    (message,) = mail.outbox
    assert 'dir="rtl"' in _html(message)
    assert "التفاعلات" in _html(message)
    assert message.attachments[0][0].endswith("-ar.pdf")


def test_failed_report_is_recorded_shown_and_told_to_its_owner(world, monkeypatch):
    def broken(access, request):
        raise RuntimeError("fonts are missing")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    schedule = _create(world)
    assert schedule.next_run_at is not None
    actions.send_due(schedule.next_run_at)
    schedule.refresh_from_db()
    assert "fonts are missing" in schedule.last_error
    assert schedule.last_sent_at is None
    assert Notification.objects.filter(user=world.alice, kind="report.failed").exists()
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/reports/schedules/")
    assert "fonts are missing" in page.content.decode()


def test_unreachable_mail_server_is_recorded_per_address(world, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    schedule = _create(world)
    assert schedule.next_run_at is not None
    actions.send_due(schedule.next_run_at)
    schedule.refresh_from_db()
    assert "boss@client.example" in schedule.last_error


def test_owner_who_left_makes_the_send_fail_with_an_explanation(world):
    schedule = actions.create_schedule(
        Actor(user=world.bob), access_for(world.bob, "acme"), _input()
    )
    Membership.objects.filter(user=world.bob, workspace=world.acme).delete()
    assert schedule.next_run_at is not None
    actions.send_due(schedule.next_run_at)
    schedule.refresh_from_db()
    assert "save it again" in schedule.last_error
    assert mail.outbox == []


def test_report_of_a_removed_channel_fails_instead_of_covering_everything(world, measured):
    pulse, _echo = measured
    schedule = _create(world, scope="channel", channel_id=pulse.pk)
    pulse.delete()
    schedule.refresh_from_db()
    assert schedule.next_run_at is not None
    actions.send_due(schedule.next_run_at)
    schedule.refresh_from_db()
    assert "was removed" in schedule.last_error
    assert mail.outbox == []


# -- pages ------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_owner_creates_a_schedule_from_the_page(world):
    response = _client(world.alice).post(
        "/w/acme/reports/schedules/new/",
        {
            "name": "Monthly for the client",
            "scope": "workspace",
            "frequency": "monthly",
            "weekday": "0",
            "day_of_month": "31",
            "hour": "7",
            "language": "ar",
            "members": [str(world.alice.pk)],
            "emails": "client@example.com, other@example.com",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.emails == ["client@example.com", "other@example.com"]
    assert [u.pk for u in schedule.members.all()] == [world.alice.pk]
    listing = _client(world.alice).get("/w/acme/reports/schedules/").content.decode()
    assert "Monthly for the client" in listing


def test_form_shows_the_error_and_keeps_what_was_typed(world):
    response = _client(world.alice).post(
        "/w/acme/reports/schedules/new/",
        {
            "name": "Kept name",
            "scope": "tag",
            "tag": "",
            "frequency": "weekly",
            "weekday": "2",
            "day_of_month": "1",
            "hour": "9",
            "language": "en",
            "emails": "x@example.com",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Give a tag of 1 to 100 characters." in body
    assert "Kept name" in body
    assert not ReportSchedule.objects.exists()


def test_member_edits_and_sends_now_and_the_email_goes_out(world, measured):
    schedule = _create(world)
    client = _client(world.bob)
    assert client.get(f"/w/acme/reports/schedules/{schedule.pk}/").status_code == 200
    response = client.post(f"/w/acme/reports/schedules/{schedule.pk}/send/")
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["boss@client.example"]]
    schedule.refresh_from_db()
    assert schedule.last_sent_at is not None
    assert schedule.next_run_at is not None  # sending now does not move the schedule


def test_owner_deletes_a_schedule(world):
    schedule = _create(world)
    response = _client(world.alice).post(f"/w/acme/reports/schedules/{schedule.pk}/delete/")
    assert response.status_code == 302
    assert not ReportSchedule.objects.exists()


def test_analyst_gets_403_on_the_form_but_sees_the_list(world):
    dana = make_user("dana")
    Membership.objects.create(user=dana, workspace=world.acme, role=Role.ANALYST)
    schedule = _create(world)
    client = _client(dana)
    assert client.get("/w/acme/reports/schedules/").status_code == 200
    assert client.get("/w/acme/reports/schedules/new/").status_code == 403
    assert client.post(f"/w/acme/reports/schedules/{schedule.pk}/send/").status_code == 403


def test_outsider_gets_404_for_another_workspace_schedule(world):
    schedule = _create(world)
    client = _client(world.charlie)
    for url in (
        "/w/acme/reports/schedules/",
        f"/w/acme/reports/schedules/{schedule.pk}/",
        "/w/acme/reports/pdf/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/w/acme/reports/schedules/{schedule.pk}/delete/").status_code == 404
    # Nor through their own workspace's address.
    assert client.get(f"/w/globex/reports/schedules/{schedule.pk}/").status_code == 404
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()


# -- API --------------------------------------------------------------------------------


def test_api_creates_lists_updates_sends_and_deletes_schedules(world, measured):
    client = _client(world.alice)
    created = client.post(
        "/api/v1/workspaces/acme/report-schedules",
        {
            "name": "API report",
            "frequency": "weekly",
            "weekday": 6,
            "hour": 8,
            "emails": ["a@example.com"],
            "language": "ar",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["time_zone"] == "Europe/London" and body["next_run_at"]
    listed = client.get("/api/v1/workspaces/acme/report-schedules").json()
    assert [s["name"] for s in listed] == ["API report"]
    url = f"/api/v1/workspaces/acme/report-schedules/{body['id']}"
    bad = client.put(url, {"name": "", "emails": []}, content_type="application/json")
    assert bad.status_code == 422
    assert "name" in bad.json()["error"]["fields"]
    sent = client.post(url + "/send")
    assert sent.status_code == 202
    assert sent.json()["last_sent_at"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_api_outsider_gets_404_for_schedules(world):
    schedule = _create(world)
    client = _client(world.charlie)
    url = f"/api/v1/workspaces/acme/report-schedules/{schedule.pk}"
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()


def test_api_pdf_answers_a_pdf_for_a_tag(world, measured):
    response = _client(world.alice).get(
        "/api/v1/workspaces/acme/reports/pdf?tag=launch&days=7&language=ar"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == FAKE_PDF
    assert "acme-tag-report-" in response["Content-Disposition"]


def test_api_pdf_refuses_an_unknown_language(world):
    response = _client(world.alice).get("/api/v1/workspaces/acme/reports/pdf?language=xx")
    assert response.status_code == 422
    assert "language" in response.json()["error"]["fields"]


# -- the dashboard button -------------------------------------------------------------


def test_dashboard_offers_the_pdf_and_prepares_it_with_feedback(world, measured):
    client = _client(world.alice)
    page = client.get("/w/acme/analytics/").content.decode()
    assert 'data-testid="download-pdf"' in page
    assert "Preparing the PDF…" in page
    prepared = client.post(
        "/w/acme/reports/pdf/prepare/",
        {"start": "2026-11-01", "end": "2026-11-07", "language": "en"},
        headers={"HX-Request": "true"},
    )
    assert prepared.status_code == 200
    link = prepared.content.decode().split('href="')[1].split('"')[0]
    download = client.get(link)
    assert download.status_code == 200
    assert download.content == FAKE_PDF
    assert "2026-11-01-2026-11-07-en.pdf" in download["Content-Disposition"]
    # Another workspace cannot fetch it, even knowing the link's token.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert _client(world.charlie).get(f"/w/globex/reports/pdf/{token}/").status_code == 404


def test_channel_pdf_of_another_workspace_is_404(world, measured):
    from minbar.analytics.tests.helpers import fake_channel

    theirs = fake_channel(world.globex, "pulse", "@globex")
    response = _client(world.alice).get(f"/w/acme/reports/pdf/?channel={theirs.pk}")
    assert response.status_code == 404


def test_direct_pdf_reports_a_bad_range_clearly(world):
    response = _client(world.alice).get("/w/acme/reports/pdf/?start=2026-11-09&end=2026-11-01")
    assert response.status_code == 422
    assert "The last day comes before the first day." in response.content.decode()


def test_after_workers_were_stopped_one_report_covers_the_latest_week(world, monkeypatch):
    asked: list[pdf.ReportRequest] = []
    monkeypatch.setattr(pdf, "render_pdf", _recording(asked))
    schedule = _create(world, weekday=0, hour=9)
    due = schedule.next_run_at
    assert due is not None
    # Three weekly runs were missed: one report, for the most recent week.
    late = due + timedelta(days=21, hours=1)
    assert actions.send_due(late) == 1
    assert len(mail.outbox) == 1
    (request,) = asked
    zone = pdf.workspace_zone("Europe/London")
    assert request.period.last_day == (due + timedelta(days=20)).astimezone(zone).date()
    schedule.refresh_from_db()
    assert schedule.next_run_at is not None
    assert late < schedule.next_run_at <= late + timedelta(days=7)


def test_minutely_task_sends_what_is_due_now(world, measured):
    from minbar.reports import tasks

    schedule = _create(world)
    ReportSchedule.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() - timedelta(minutes=1)
    )
    tasks.send_due_reports()
    assert [m.to for m in mail.outbox] == [["boss@client.example"]]
    schedule.refresh_from_db()
    assert schedule.next_run_at is not None and schedule.next_run_at > timezone.now()
