from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minbar.workspaces.roles import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=lambda: [(n, n) for n in sorted(zoneinfo.available_timezones())],
        help_text=_("Schedules and reports use this zone unless a member sets their own."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


def _time_zones() -> list[tuple[str, str]]:
    return [(n, n) for n in sorted(zoneinfo.available_timezones())]


class NewWorkspaceForm(forms.Form):
    organization = forms.ChoiceField(label=_("Organization"))
    name = forms.CharField(label=_("Brand or workspace name"), max_length=120)
    language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zones, initial="UTC")

    def __init__(self, *args: object, organizations: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]


class SetupForm(forms.Form):
    """The first-run form: the first owner account, organization and workspace."""

    username = forms.CharField(label=_("Your username"), max_length=150)
    email = forms.EmailField(label=_("Your email"))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password."),
    )
    organization = forms.CharField(label=_("Organization (company or agency)"), max_length=120)
    workspace = forms.CharField(label=_("First brand (workspace)"), max_length=120)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zones, initial="UTC")

    def clean_password(self) -> str:
        from django.contrib.auth.password_validation import validate_password

        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password
