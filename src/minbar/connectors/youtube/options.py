"""The settings a YouTube post offers in the composer (read by ``VideoOptions.from_request``).

Categories are YouTube's assignable ones (``videoCategories.list``, regionCode US),
https://developers.google.com/youtube/v3/docs/videoCategories/list; tags, title and
privacy follow https://developers.google.com/youtube/v3/docs/videos#resource.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from minbar.connectors.types import OptionKind, PostOption

CATEGORIES = (
    ("1", _("Film & Animation")),
    ("2", _("Autos & Vehicles")),
    ("10", _("Music")),
    ("15", _("Pets & Animals")),
    ("17", _("Sports")),
    ("19", _("Travel & Events")),
    ("20", _("Gaming")),
    ("22", _("People & Blogs")),
    ("23", _("Comedy")),
    ("24", _("Entertainment")),
    ("25", _("News & Politics")),
    ("26", _("Howto & Style")),
    ("27", _("Education")),
    ("28", _("Science & Technology")),
    ("29", _("Nonprofits & Activism")),
)

POST_OPTIONS = (
    PostOption(
        "visibility",
        _("Privacy"),
        OptionKind.CHOICE,
        (("public", _("Public")), ("unlisted", _("Unlisted")), ("private", _("Private"))),
        help=_("Empty: the channel's default privacy in Minbar, else public."),
    ),
    PostOption(
        "title",
        _("Video title"),
        max_length=100,
        help=_("Empty: the first line of the text; the rest is the description."),
    ),
    PostOption(
        "tags",
        _("Tags"),
        OptionKind.TAGS,
        max_length=500,
        help=_("Separated by commas; 500 characters in all."),
    ),
    PostOption("category_id", _("Category"), OptionKind.CHOICE, CATEGORIES),
    PostOption(
        "made_for_kids",
        _("Made for kids"),
        OptionKind.CHOICE,
        (("yes", _("Yes, it is made for kids")), ("no", _("No, it is not made for kids"))),
        help=_("Empty: the channel's audience setting on YouTube."),
    ),
    PostOption(
        "playlist_id",
        _("Add to playlist (playlist ID)"),
        max_length=64,
        help=_("The ID in the playlist's address after list=, e.g. PL…"),
    ),
    PostOption(
        "publish_at",
        _("Make public on YouTube at"),
        OptionKind.DATE_TIME,
        help=_(
            "Uploaded now as private; YouTube makes it public at this time. "
            "Empty: public (or the privacy chosen) at once."
        ),
    ),
    PostOption("quiet", _("Don't notify subscribers"), OptionKind.FLAG),
)
