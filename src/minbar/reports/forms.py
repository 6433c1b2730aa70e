"""The scheduled report form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from minbar.reports.models import Frequency, ScopeKind


class ScheduleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    scope = forms.ChoiceField(label=_("What the report covers"), choices=ScopeKind.choices)
    channel = forms.TypedChoiceField(
        label=_("Channel"), required=False, coerce=int, empty_value=None
    )
    post = forms.IntegerField(
        label=_("Post number"),
        required=False,
        min_value=1,
        help_text=_("The number in the post's address, such as 42 in …/posts/42/."),
    )
    tag = forms.CharField(label=_("Tag"), max_length=101, required=False)
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=_("Day of the week (weekly)"),
        coerce=int,
        choices=[(i, WEEKDAYS[i]) for i in range(7)],
        help_text=_("A weekly report covers the seven days before this day."),
    )
    day_of_month = forms.IntegerField(
        label=_("Day of the month (monthly)"),
        min_value=1,
        max_value=31,
        help_text=_(
            "A monthly report covers the previous calendar month. In a shorter month, "
            "it is sent on the month's last day."
        ),
    )
    hour = forms.TypedChoiceField(
        label=_("Hour (workspace time zone)"),
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
    )
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)
    members = forms.TypedMultipleChoiceField(
        label=_("Members who receive it"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    emails = forms.CharField(
        label=_("Other email addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
        help_text=_("One a line, or separated by commas."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def __init__(
        self,
        *args: object,
        channels: list[tuple[int, str]],
        members: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["channel"].choices = [("", "—"), *channels]  # type: ignore[attr-defined]
        self.fields["members"].choices = members  # type: ignore[attr-defined]

    def email_list(self) -> list[str]:
        raw = self.cleaned_data.get("emails", "")
        return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]
