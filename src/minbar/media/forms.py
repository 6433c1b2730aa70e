from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minbar.media.actions import ALT_TEXT_MAX, FOLDER_MAX
from minbar.media.models import MediaAsset

ALT_TEXT_HELP = _(
    "Describe what the picture shows for people who use screen readers, in the language of "
    "your posts."
)
FOLDER_HELP = _("For example Campaigns/Ramadan. Leave empty for none.")
TAGS_HELP = _("Separate tags with commas.")


class UploadForm(forms.Form):
    """The details given to every file of one upload; the files come from request.FILES."""

    folder = forms.CharField(
        label=_("Folder"), required=False, max_length=FOLDER_MAX, help_text=FOLDER_HELP
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000, help_text=TAGS_HELP)
    alt_text = forms.CharField(
        label=_("Alt text"),
        required=False,
        max_length=ALT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_("Given to every file in this upload; you can change it per file later."),
    )


class AssetForm(forms.Form):
    alt_text = forms.CharField(
        label=_("Alt text"),
        required=False,
        max_length=ALT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=ALT_TEXT_HELP,
    )
    folder = forms.CharField(
        label=_("Folder"), required=False, max_length=FOLDER_MAX, help_text=FOLDER_HELP
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000, help_text=TAGS_HELP)

    def __init__(self, *args: Any, asset: MediaAsset, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_asset{asset.pk}_%s")
        kwargs.setdefault(
            "initial",
            {"alt_text": asset.alt_text, "folder": asset.folder, "tags": ", ".join(asset.tags)},
        )
        super().__init__(*args, **kwargs)
        self.asset = asset
