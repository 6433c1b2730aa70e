"""The demo organization: two brands, one person per role, and real sample records.

Seeding is idempotent: running it again finds what exists and adds only what
is missing, so ``minbar demo`` can be started any number of times.
"""

from __future__ import annotations

import json
import secrets
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from minbar.accounts import actions as account_actions
from minbar.accounts.models import User
from minbar.channels.actions import save_connection
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.sandbox.demo import seed_demo_sandbox
from minbar.workspaces import actions as workspace_actions
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Invitation, Membership, Organization, Workspace
from minbar.workspaces.roles import Role

DEMO_ORG_SLUG = "demo"
ENGLISH_SLUG = "oasis-coffee"
ARABIC_SLUG = "waha-coffee"
OWNER = "demo"

# (username, first name, last name, language, role in English brand, role in Arabic brand)
PEOPLE = [
    (OWNER, "Dana", "Owner", "en", Role.OWNER, Role.OWNER),
    ("amal", "أمل", "المديرة", "ar", Role.ADMIN, Role.ADMIN),
    ("eli", "Eli", "Editor", "en", Role.EDITOR, Role.EDITOR),
    ("karim", "كريم", "الكاتب", "ar", Role.CONTRIBUTOR, Role.CONTRIBUTOR),
    ("ana", "Ana", "Analyst", "en", Role.ANALYST, Role.ANALYST),
    ("client", "Chris", "Client", "en", Role.CLIENT, Role.CLIENT),
]


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str
    api_token: str
    workspace: str
    # Sandbox account handle → token, so a re-run keeps the same sandbox sign-ins.
    sandbox_tokens: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "password": self.password,
            "api_token": self.api_token,
            "workspace": self.workspace,
            "sandbox_tokens": self.sandbox_tokens,
        }


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / "demo-credentials.json"


def _saved() -> dict[str, Any]:
    path = credentials_path()
    if path.exists():
        try:
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                return data
        except (OSError, ValueError):
            pass
    return {}


def _connect_sandbox_channels(known_tokens: dict[str, str]) -> dict[str, str]:
    """Give each demo brand its sandbox channels, with posts out and an audience reacting.

    The server is not running yet while the demo seeds, so the sandbox accounts
    are made in-process and saved as channels the way connecting them would.
    """
    tokens: dict[str, str] = {}
    for connection in seed_demo_sandbox(known_tokens):
        workspace = Workspace.objects.get(slug=connection.workspace)
        account = connection.result.account
        secret = connection.result.credentials.secrets["access_token"]
        tokens[account.handle.lstrip("@")] = secret
        existing = Channel.objects.filter(
            workspace=workspace, network="sandbox", remote_id=account.remote_id
        ).first()
        if (
            existing is not None
            and existing.get_credentials().secrets.get("access_token") == secret
        ):
            continue
        save_connection(Actor.system(), workspace, "sandbox", "", connection.result)
    return tokens


WEEK_PLAN = {
    ENGLISH_SLUG: [
        (0, 9, "Our single-origin Ethiopia is back on the bar ☕ #coffee"),
        (1, 17, "After-work cold brew, half price from 5 to 7 today #coffee"),
        (2, 9, "Meet Sam, our head roaster, and the story behind the spring blend"),
        (3, 12, "Lunch pairing: cardamom bun + flat white. Which would you add? #food"),
        (5, 10, "Weekend brunch menu is live: https://oasis.example/brunch #coffee"),
    ],
    ARABIC_SLUG: [
        (0, 8, "صباح الخير! قهوة اليوم: إثيوبيا مختصة ☕️ #قهوة"),
        (2, 20, "جلسة تذوق قهوة مجانية هذا المساء في فرع الرياض #قهوة_مختصة"),
        (4, 16, "عرض اليوم: كوب ثانٍ مجانًا مع كل حلى 🍰"),
    ],
}


def _plan_a_week(users: dict[str, User]) -> None:
    """Scheduled posts over the coming week so the calendar and dispatcher have work."""
    from minbar.publishing.actions import (
        PolicyInput,
        PostInput,
        StepInput,
        create_post,
        update_approval_policy,
    )
    from minbar.publishing.models import Post

    for slug, plan in WEEK_PLAN.items():
        workspace = Workspace.objects.get(slug=slug)
        if Post.objects.filter(workspace=workspace).exists():
            continue
        if slug == ENGLISH_SLUG:
            # Two named steps, the second shared with the client, to show the route.
            update_approval_policy(
                Actor(user=users[OWNER], via="system"),
                access_for(users[OWNER], slug),
                PolicyInput(
                    steps=[
                        StepInput("Editor review", [users["eli"].pk]),
                        StepInput("Client sign-off", [users["client"].pk]),
                    ]
                ),
            )
        channels = [
            c.pk
            for c in Channel.objects.filter(workspace=workspace, network="sandbox")
            if c.get_credentials().data.get("flavour") in ("x", "facebook")
        ]
        if not channels:
            continue
        zone = zoneinfo.ZoneInfo(workspace.time_zone)
        start = timezone.now().astimezone(zone).date() + timedelta(days=1)
        owner = users[OWNER]
        for days, hour, text in plan:
            when = datetime.combine(start + timedelta(days=days), time(hour), zone)
            create_post(
                Actor(user=owner, via="system"),
                access_for(owner, slug),
                PostInput(
                    text=text,
                    channel_ids=channels,
                    when="at",
                    scheduled_at=when.astimezone(UTC),
                    scheduled_time_zone=workspace.time_zone,
                ),
            )
        # One post from the contributor waits for approval, to show the flow.
        writer = users["karim"]
        create_post(
            Actor(user=writer, via="system"),
            access_for(writer, slug),
            PostInput(
                text=plan[0][2],
                channel_ids=channels[:1],
                when="at",
                scheduled_at=datetime.combine(start + timedelta(days=6), time(11), zone).astimezone(
                    UTC
                ),
            ),
        )


@dataclass(frozen=True)
class BrandInbox:
    days: tuple[int, ...]  # Monday = 0
    opens: str
    closes: str
    replies: list[tuple[str, str, str]]
    complaints_to: str


INBOX_SETUP = {
    ENGLISH_SLUG: BrandInbox(
        days=(0, 1, 2, 3, 4),
        opens="09:00",
        closes="18:00",
        replies=[
            ("Thanks", "Thank you {first_name}! Glad you enjoyed it. — {agent}, {brand}", "en"),
            (
                "Sorry",
                "So sorry about this, {first_name}. Could you send us a message with your "
                "order number? We will make it right. — {agent}",
                "en",
            ),
        ],
        complaints_to="eli",
    ),
    ARABIC_SLUG: BrandInbox(
        days=(6, 0, 1, 2, 3),  # Sunday to Thursday
        opens="09:00",
        closes="17:00",
        replies=[
            ("شكراً", "شكراً لك يا {first_name}! سعداء أنها أعجبتك. — {agent}، {brand}", "ar"),
            (
                "اعتذار",
                "نعتذر منك يا {first_name}، أرسل لنا رسالة خاصة برقم الطلب "
                "وسنعالج الأمر. — {agent}",
                "ar",
            ),
        ],
        complaints_to="amal",
    ),
}


def _set_up_inbox(users: dict[str, User]) -> None:
    """Business hours, saved replies and two rules per brand, so the inbox works from the start."""
    from minbar.inbox import actions as inbox_actions
    from minbar.inbox.models import Rule

    owner = users[OWNER]
    for slug, setup in INBOX_SETUP.items():
        workspace = Workspace.objects.get(slug=slug)
        if Rule.objects.filter(workspace=workspace).exists():
            continue
        actor, access = Actor(user=owner, via="system"), access_for(owner, slug)
        inbox_actions.update_inbox_settings(
            actor,
            access,
            inbox_actions.HoursInput(
                week={day: [(setup.opens, setup.closes)] for day in setup.days},
                first_response_target_minutes=60,
            ),
        )
        saved = [
            inbox_actions.save_reply_template(actor, access, title, body, language)
            for title, body, language in setup.replies
        ]
        inbox_actions.save_rule(
            actor,
            access,
            name="Complaints go to a senior person, urgently"
            if slug == ENGLISH_SLUG
            else "الشكاوى إلى مسؤول، بأولوية عاجلة",
            conditions={"sentiments": ["negative"]},
            actions_={
                "priority": 3,
                "add_tags": ["complaint" if slug == ENGLISH_SLUG else "شكوى"],
                "assign_to": users[setup.complaints_to].pk,
            },
            stop=True,
        )
        inbox_actions.save_rule(
            actor,
            access,
            name="Thank happy customers automatically"
            if slug == ENGLISH_SLUG
            else "شكر العملاء السعداء تلقائياً",
            conditions={"sentiments": ["positive"], "kinds": ["comment"]},
            actions_={
                "auto_reply": saved[0].pk,
                "add_tags": ["praise" if slug == ENGLISH_SLUG else "ثناء"],
            },
        )


@transaction.atomic
def seed_demo() -> DemoCredentials:
    saved = _saved()
    actor = Actor.system()
    password = str(saved.get("password") or f"minbar-{secrets.token_urlsafe(9)}")
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if org is None:
        org = Organization.objects.create(name="Oasis Coffee Group", slug=DEMO_ORG_SLUG)
    users: dict[str, User] = {}
    for username, first, last, language, _en_role, _ar_role in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = account_actions.create_user(
                username,
                password,
                email=f"{username}@demo.minbar.invalid",
                language=language,
                first_name=first,
                last_name=last,
            )
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        users[username] = user
    owner = users[OWNER]
    english = Workspace.objects.filter(
        slug=ENGLISH_SLUG
    ).first() or workspace_actions.create_workspace(
        actor,
        organization=org,
        name="Oasis Coffee",
        owner=owner,
        language="en",
        time_zone="America/New_York",
        slug=ENGLISH_SLUG,
        description="Specialty coffee roaster with cafés in New York and Chicago.",
    )
    arabic = Workspace.objects.filter(
        slug=ARABIC_SLUG
    ).first() or workspace_actions.create_workspace(
        actor,
        organization=org,
        name="قهوة الواحة",
        owner=owner,
        language="ar",
        time_zone="Asia/Riyadh",
        slug=ARABIC_SLUG,
        description="محمصة قهوة مختصة لها مقاهٍ في الرياض وجدة ودبي.",
    )
    for username, _first, _last, _language, en_role, ar_role in PEOPLE:
        for workspace, role in ((english, en_role), (arabic, ar_role)):
            Membership.objects.get_or_create(
                user=users[username], workspace=workspace, defaults={"role": role}
            )
    # A pending invitation in each brand shows how joining works.
    for workspace, email in (
        (english, "barista@demo.minbar.invalid"),
        (arabic, "barista-ar@demo.minbar.invalid"),
    ):
        if not Invitation.objects.filter(workspace=workspace, email=email).exists():
            workspace_actions.invite_member(
                Actor(user=owner, via="system"),
                access_for(owner, workspace.slug),
                email=email,
                role=Role.EDITOR,
                send=False,
            )
    token = str(saved.get("api_token", ""))
    if not token or account_actions.authenticate_api_token(token) is None:
        token = account_actions.create_api_token(
            actor, owner, english, name="demo", role=Role.OWNER
        ).secret
    known = saved.get("sandbox_tokens")
    # Channels first (below), then a week of planned posts on them.
    sandbox_tokens = _connect_sandbox_channels(
        {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}
    )
    _plan_a_week(users)
    _set_up_inbox(users)
    from minbar.links.demo import seed_demo_links

    # The sandbox posts' links become tracked short links with visitors and sales.
    seed_demo_links()
    from minbar.analytics.demo import record_demo_posts

    record_demo_posts([ENGLISH_SLUG, ARABIC_SLUG])  # measured by analytics from the start
    creds = DemoCredentials(
        username=OWNER,
        password=password,
        api_token=token,
        workspace=ENGLISH_SLUG,
        sandbox_tokens=sandbox_tokens,
    )
    path = credentials_path()
    path.write_text(json.dumps(creds.as_dict(), indent=2, ensure_ascii=False) + "\n")
    path.chmod(0o600)
    return creds


def warm_up_inbox(answers_per_brand: int = 2) -> int:
    """Bring the sandbox audience's comments into each brand's inbox and answer a few.

    Runs once the demo server is up (the sandbox network is served by it): each
    brand's channels are read, and the person complaints go to answers the oldest
    open questions with the brand's first saved reply, so the response metrics show
    something real. Returns how many replies it sent; answering again is skipped.
    """
    from minbar.inbox import actions as inbox_actions
    from minbar.inbox import ingestion
    from minbar.inbox.models import Item, SavedReply

    sent = 0
    ingestion.due_channels(timezone.now())  # every channel gets its cursor
    for slug, setup in INBOX_SETUP.items():
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            continue
        for channel in Channel.objects.filter(workspace=workspace, network="sandbox"):
            ingestion.poll_channel(channel.pk)
        already = Item.objects.filter(workspace=workspace, first_response_at__isnull=False)
        if already.exists():
            continue
        person = User.objects.filter(username=setup.complaints_to).first()
        saved = SavedReply.objects.filter(workspace=workspace).order_by("pk").first()
        if person is None or saved is None:
            continue
        actor, access = Actor(user=person, via="system"), access_for(person, slug)
        waiting = Item.objects.filter(
            workspace=workspace, status="open", first_response_at__isnull=True
        ).exclude(reply_remote_id="")
        for item in waiting.order_by("remote_created_at")[:answers_per_brand]:
            answer = inbox_actions.reply(
                actor, access, item.pk, inbox_actions.fill(saved, item, person)
            )
            sent += int(answer.state == "sent")
    return sent
