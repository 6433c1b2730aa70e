"""The link form (with the UTM builder) and the workspace's link settings form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minbar.links.models import DEFAULT_ATTRIBUTION_DAYS


class LinkForm(forms.Form):
    destination = forms.CharField(
        label=_("Destination"),
        max_length=2000,
        help_text=_("The full address people should land on, starting with https://."),
        widget=forms.URLInput(attrs={"dir": "ltr", "data-utm": "destination"}),
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    utm_source = forms.CharField(
        label=_("Source (utm_source)"),
        max_length=100,
        required=False,
        help_text=_("Where the traffic comes from: the network, such as instagram."),
        widget=forms.TextInput(attrs={"dir": "ltr", "data-utm": "utm_source"}),
    )
    utm_medium = forms.CharField(
        label=_("Medium (utm_medium)"),
        max_length=100,
        required=False,
        help_text=_("The kind of traffic, such as social, email or referral."),
        widget=forms.TextInput(attrs={"dir": "ltr", "data-utm": "utm_medium"}),
    )
    utm_campaign = forms.CharField(
        label=_("Campaign (utm_campaign)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "data-utm": "utm_campaign"}),
    )
    utm_content = forms.CharField(
        label=_("Content (utm_content)"),
        max_length=200,
        required=False,
        help_text=_("Tells apart links in the same campaign, such as the post."),
        widget=forms.TextInput(attrs={"dir": "ltr", "data-utm": "utm_content"}),
    )
    utm_term = forms.CharField(
        label=_("Term (utm_term)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "data-utm": "utm_term"}),
    )
    channel = forms.TypedChoiceField(
        label=_("Channel"), required=False, coerce=int, empty_value=None
    )
    contact = forms.TypedChoiceField(
        label=_("Referral link of a contact"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Clicks and conversions through this link are credited to the contact."),
    )
    active = forms.BooleanField(label=_("Active (redirects)"), required=False, initial=True)

    def __init__(
        self,
        *args: object,
        channels: list[tuple[int, str]],
        contacts: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["channel"].choices = [("", _("None")), *channels]  # type: ignore[attr-defined]
        self.fields["contact"].choices = [("", _("None")), *contacts]  # type: ignore[attr-defined]


class SettingsForm(forms.Form):
    auto_apply = forms.BooleanField(
        label=_("Track links in posts"),
        required=False,
        help_text=_(
            "When a post goes out, each link in it becomes the channel's short link with "
            "UTM tags. Each post can turn this off in the composer."
        ),
    )
    short_domain = forms.CharField(
        label=_("Short domain"),
        max_length=200,
        required=False,
        help_text=_(
            "A host name whose DNS points at this Minbar, such as go.example.com "
            "(see docs/links.md). Empty: Minbar's own address."
        ),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        min_value=1,
        max_value=90,
        initial=DEFAULT_ATTRIBUTION_DAYS,
        help_text=_("A conversion counts for the last click at most this many days before it."),
    )
    browser_events = forms.CharField(
        label=_("Events the browser snippet may send"),
        required=False,
        help_text=_("Separate with commas, such as signup, lead. Empty: the snippet is off."),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed origins"),
        required=False,
        help_text=_("One per line, such as https://shop.example.com."),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
    )
