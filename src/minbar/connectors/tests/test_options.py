"""Which per-post settings a channel offers (minbar.connectors.options)."""

from __future__ import annotations

from dataclasses import replace

from minbar.connectors import options
from minbar.connectors.instagram import InstagramConnector
from minbar.connectors.mastodon.connector import MastodonConnector
from minbar.connectors.threads.connector import ThreadsConnector
from minbar.connectors.types import OptionKind, PostOption
from minbar.connectors.youtube import YouTubeConnector


def test_a_single_visibility_is_nothing_to_choose() -> None:
    caps = replace(MastodonConnector.capabilities, visibility=("public",))
    assert "visibility" not in [o.key for o in options.options_for(caps)]


def test_visibility_choices_follow_what_the_account_may_use_in_the_networks_words() -> None:
    caps = replace(MastodonConnector.capabilities, visibility=("public", "private"))
    [visibility, warning] = options.options_for(caps)
    assert [(v, str(label)) for v, label in visibility.choices] == [
        ("public", "Public"),
        ("private", "Followers only"),
    ]
    assert warning.key == "content_warning"


def test_threads_offers_who_may_reply_and_instagram_feed_or_story() -> None:
    threads = options.options_for(ThreadsConnector.capabilities)[0]
    assert str(threads.label) == "Who can reply"
    assert "mentioned_only" in dict(threads.choices)
    instagram = options.options_for(InstagramConnector.capabilities)[0]
    assert set(dict(instagram.choices)) == {"feed", "story"}


def test_youtube_offers_its_video_settings() -> None:
    keys = [o.key for o in options.options_for(YouTubeConnector.capabilities)]
    assert keys == [
        "visibility",
        "title",
        "tags",
        "category_id",
        "made_for_kids",
        "playlist_id",
        "publish_at",
        "quiet",
    ]


def test_a_required_single_choice_is_still_offered() -> None:
    declared = PostOption(
        "visibility", "Who", OptionKind.CHOICE, (("only_me", "Me"),), required=True
    )
    caps = replace(
        MastodonConnector.capabilities,
        visibility=("only_me",),
        content_warning=False,
        post_options=(declared,),
    )
    [only] = options.options_for(caps)
    assert only.required and [v for v, _ in only.choices] == ["only_me"]


def test_tags_are_tidied_and_an_off_switch_is_dropped() -> None:
    offered = (
        PostOption("tags", "Tags", OptionKind.TAGS),
        PostOption("quiet", "Quiet", OptionKind.FLAG),
    )
    assert options.clean(offered, {"tags": " a,, b ,c ", "quiet": "off"}) == {"tags": "a, b, c"}
