from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minbar.webhooks.events import event_choices


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=1000,
        widget=forms.URLInput(attrs={"dir": "ltr", "placeholder": "https://example.com/minbar"}),
        help_text=_("Minbar sends a signed POST request here for every event you choose."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("“All events” includes the kinds Minbar adds later."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = self.fields["events"]
        assert isinstance(events, forms.MultipleChoiceField)
        events.choices = [(k, str(v)) for k, v in event_choices()]
