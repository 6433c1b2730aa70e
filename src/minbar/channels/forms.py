from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minbar.connectors.base import Connector
from minbar.connectors.types import AuthKind


def connect_form_for(connector: type[Connector], data: object = None) -> forms.Form:
    """The connect form a network asks for: its own fields, or a server address for OAuth."""
    form = forms.Form(data)  # type: ignore[arg-type]
    caps = connector.capabilities
    if caps.auth == AuthKind.OAUTH2:
        if caps.needs_server_url:
            form.fields["server_url"] = forms.URLField(
                label=_("Server address"),
                initial=caps.default_server_url,
                help_text=_("The address of your server, e.g. https://mastodon.social."),
                assume_scheme="https",
            )
        return form
    for field in connector.auth_fields:
        if field.choices:
            form.fields[field.name] = forms.ChoiceField(
                label=field.label, help_text=field.help, choices=list(field.choices)
            )
            continue
        widget = (
            forms.PasswordInput(render_value=False)
            if field.secret
            else forms.TextInput(
                attrs={"placeholder": field.placeholder} if field.placeholder else {}
            )
        )
        form.fields[field.name] = forms.CharField(
            label=field.label,
            help_text=field.help,
            widget=widget,
            required=field.name != "server_url",
            initial=caps.default_server_url if field.name == "server_url" else None,
        )
    return form
