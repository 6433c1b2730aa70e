"""The product's modules as the navigation shows them.

Modules that later issues build are listed with what they will do, so the
shell is honest about what exists: no sample numbers stand in for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from minbar.workspaces.roles import Perm


@dataclass(frozen=True)
class Module:
    key: str
    title: Promise
    summary: Promise
    plans: tuple[Promise, ...]
    perm: Perm
    icon: str
    # The module's own page once it is built; until then a "what it will do" page.
    url_name: str = ""


MODULES: tuple[Module, ...] = (
    Module(
        key="campaigns",
        title=_("Plan"),
        summary=_(
            "Campaign plans tied to business goals, personas, competitors and a content calendar."
        ),
        plans=(
            # xgettext:no-python-format
            _("A goal per campaign aligned to a metric, such as +15% conversions in three months."),
            _("Target personas by age, location, income, job title, industry and interests."),
            _("Competitors to benchmark and an audit of your own past results."),
        ),
        perm=Perm.VIEW_CAMPAIGNS,
        icon="target",
    ),
    Module(
        key="publishing",
        title=_("Publish"),
        summary=_("Compose once, tailor per network and audience, schedule, and approve."),
        plans=(
            _("A composer with per-network variants, live validation and previews."),
            _("Scheduling, queues with time slots, a calendar and bulk CSV import."),
            _("Approvals in one or several steps; nothing unapproved goes out, nothing twice."),
        ),
        perm=Perm.VIEW_CONTENT,
        icon="send",
        url_name="publishing:list",
    ),
    Module(
        key="approvals",
        title=_("Approvals"),
        summary=_("Posts waiting for your decision, step by step, with comments and mentions."),
        plans=(),
        # Clients see here what is shared with them for approval.
        perm=Perm.VIEW_SHARED_CONTENT,
        icon="check",
        url_name="publishing:approvals",
    ),
    Module(
        key="inbox",
        title=_("Inbox"),
        summary=_(
            "Every comment, reply, mention, message and review from every network in one place."
        ),
        plans=(
            _("Assign, tag, reply, hide and close, with saved replies in English and Arabic."),
            _("Rules that route and tag automatically, available on every plan."),
            _("Response rate and response time in business hours."),
        ),
        perm=Perm.VIEW_INBOX,
        icon="inbox",
        url_name="inbox:list",
    ),
    Module(
        key="audience",
        title=_("Audience"),
        summary=_(
            "Contacts built from social identities, with notes, segments and customer value."
        ),
        plans=(
            _("A contact for every person who interacts with the brand."),
            _("Customer value, direct (purchases) and indirect (referrals)."),
            _("Who influences whom among your customers."),
        ),
        perm=Perm.VIEW_AUDIENCE,
        icon="users",
    ),
    Module(
        key="listening",
        title=_("Listening"),
        summary=_(
            "What is said about the brand and its competitors, share of voice and crisis alerts."
        ),
        plans=(
            _("Earned media: mentions, reviews, recommendations and shares."),
            _("Share of voice against competitors over any period."),
            _("Alerts when a harmful claim starts spreading."),
        ),
        perm=Perm.VIEW_ANALYTICS,
        icon="ear",
    ),
    Module(
        key="analytics",
        title=_("Analytics"),
        summary=_("Engagement, impressions, reach, referrals, conversions and response time."),
        plans=(
            _(
                "Metrics defined once and documented, never a zero for a number a network does not give."
            ),
            _("Goals tracked against targets."),
            _("Reports people can read, in English and Arabic."),
        ),
        perm=Perm.VIEW_ANALYTICS,
        icon="chart",
        url_name="analytics:workspace",
    ),
    Module(
        key="links",
        title=_("Links"),
        summary=_("Short links with UTM tags, click tracking and conversions from post to sale."),
        plans=(
            _("A short link and UTM tags for every link in every post."),
            _("Clicks by channel, post and campaign, with bots filtered out."),
            _("Conversions attributed to the click that led to them."),
        ),
        perm=Perm.VIEW_ANALYTICS,
        icon="link",
        url_name="links:list",
    ),
    Module(
        key="media",
        title=_("Media"),
        summary=_("The workspace's images and videos, fitted to each network when you publish."),
        plans=(
            _("Upload many files at once; the same file is stored once."),
            _("Alt text in English or Arabic, folders and tags."),
            _("Location and camera details removed from every photo."),
        ),
        perm=Perm.VIEW_CONTENT,
        icon="image",
        url_name="media:library",
    ),
    Module(
        key="channels",
        title=_("Channels"),
        summary=_("The social accounts this workspace publishes to and listens on."),
        plans=(
            _(
                "Facebook, Instagram, X, LinkedIn, YouTube, TikTok, Pinterest, Threads, Bluesky, Mastodon, Telegram and more."
            ),
            _("Connection health at a glance, with a warning before anything breaks."),
            _("A built-in sandbox network with a simulated audience to try everything safely."),
        ),
        perm=Perm.VIEW_CONTENT,
        icon="plug",
        url_name="channels:list",
    ),
)

MODULES_BY_KEY = {module.key: module for module in MODULES}
