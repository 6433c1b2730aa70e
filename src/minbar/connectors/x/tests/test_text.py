# ruff: noqa: RUF001
"""X's own conformance suite (twitter-text) run against Minbar's counting and extraction.

``conformance/`` holds X's data files unchanged (twitter/twitter-text, commit
30e2430d, Apache-2.0, see ``conformance/README.md``). Every weighted-length case
of ``validate.yml`` runs with the configuration its group names
(``WeightedTweetsCounterTest``: v2; the emoji and directional-marker groups: v3)
and is compared field by field; the URL, mention, list, reply and hashtag groups
of ``extract.yml`` are compared with their indices. Counting rules:
https://docs.x.com/fundamentals/counting-characters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from minbar.connectors.x import text as x_text
from minbar.connectors.x.tlds import COUNTRY_TLDS, GENERIC_TLDS

CONFORMANCE = Path(__file__).resolve().parent / "conformance"


def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (CONFORMANCE / "conformance" / name).open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle)["tests"])


def _config(name: str) -> x_text.CountingConfig:
    return x_text.CountingConfig.from_json(
        json.loads((CONFORMANCE / "config" / name).read_text(encoding="utf-8"))
    )


VALIDATE = _load("validate.yml")
EXTRACT = _load("extract.yml")
WEIGHTED_GROUPS = {
    "WeightedTweetsCounterTest": "v2.json",
    "WeightedTweetsWithDiscountedEmojiCounterTest": "v3.json",
    "UnicodeDirectionalMarkerCounterTest": "v3.json",
}


def _cases(data: dict[str, list[dict[str, Any]]], *groups: str) -> list[Any]:
    return [
        pytest.param(group, case, id=f"{group}: {case['description']}")
        for group in groups
        for case in data[group]
    ]


def test_every_weighted_length_group_of_validate_yml_is_run() -> None:
    assert {g for g in VALIDATE if "Counter" in g} == set(WEIGHTED_GROUPS)
    assert sum(len(VALIDATE[g]) for g in WEIGHTED_GROUPS) == 44


def test_shipped_configs_match_the_module_constants() -> None:
    assert _config("v3.json") == x_text.V3
    assert _config("v2.json") == x_text.V2


@pytest.mark.parametrize(("group", "case"), _cases(VALIDATE, *WEIGHTED_GROUPS))
def test_weighted_length_conformance(group: str, case: dict[str, Any]) -> None:
    result = x_text.parse_tweet(case["text"], _config(WEIGHTED_GROUPS[group]))
    expected = case["expected"]
    assert {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range_start,
        "displayRangeEnd": result.display_range_end,
        "validRangeStart": result.valid_range_start,
        "validRangeEnd": result.valid_range_end,
    } == expected


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "urls"))
def test_url_extraction_conformance(group: str, case: dict[str, Any]) -> None:
    assert x_text.extract_urls(case["text"]) == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "tco_urls_with_params"))
def test_tco_url_with_params_conformance(group: str, case: dict[str, Any]) -> None:
    assert x_text.extract_urls(case["text"]) == case["expected"]


@pytest.mark.parametrize(
    ("group", "case"), _cases(EXTRACT, "urls_with_indices", "urls_with_directional_markers")
)
def test_url_indices_conformance(group: str, case: dict[str, Any]) -> None:
    found = [
        {"url": e.value, "indices": [e.start, e.end]}
        for e in x_text.extract_urls_with_indices(case["text"])
    ]
    assert found == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "mentions"))
def test_mention_conformance(group: str, case: dict[str, Any]) -> None:
    assert x_text.extract_mentions(case["text"]) == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "mentions_with_indices"))
def test_mention_indices_conformance(group: str, case: dict[str, Any]) -> None:
    found = [
        {"screen_name": e.value, "indices": [e.start, e.end]}
        for e in x_text.extract_mentions_with_indices(case["text"])
    ]
    assert found == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "mentions_or_lists_with_indices"))
def test_mention_or_list_indices_conformance(group: str, case: dict[str, Any]) -> None:
    found = [
        {"screen_name": e.value, "list_slug": e.list_slug, "indices": [e.start, e.end]}
        for e in x_text.extract_mentions_or_lists_with_indices(case["text"])
    ]
    assert found == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "replies"))
def test_reply_conformance(group: str, case: dict[str, Any]) -> None:
    assert x_text.extract_reply_screen_name(case["text"]) == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "hashtags", "hashtags_from_astral"))
def test_hashtag_conformance(group: str, case: dict[str, Any]) -> None:
    assert x_text.extract_hashtags(case["text"]) == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases(EXTRACT, "hashtags_with_indices"))
def test_hashtag_indices_conformance(group: str, case: dict[str, Any]) -> None:
    found = [
        {"hashtag": e.value, "indices": [e.start, e.end]}
        for e in x_text.extract_hashtags_with_indices(case["text"])
    ]
    assert found == case["expected"]


def test_tld_module_is_the_conformance_list() -> None:
    tlds = _load("tlds.yml")
    assert tuple(c["text"].split("twitter.", 1)[1] for c in tlds["country"]) == COUNTRY_TLDS
    assert tuple(c["text"].split("twitter.", 1)[1] for c in tlds["generic"]) == GENERIC_TLDS


def test_every_tld_conformance_case_is_a_link() -> None:
    tlds = _load("tlds.yml")
    failures = [
        case["text"]
        for group in ("country", "generic")
        for case in tlds[group]
        if x_text.extract_urls(case["text"]) != case["expected"]
    ]
    assert failures == []


# -- Minbar's own cases: what marketers write --------------------------------------


def test_arabic_counts_one_per_code_point_like_latin() -> None:
    assert x_text.weighted_length("مرحبا بالعالم") == 13
    # Harakat are code points of their own in the light range: each counts 1.
    assert x_text.weighted_length("مَرْحَبًا") == 9
    assert x_text.weighted_length("ا" * 280) == 280
    assert x_text.parse_tweet("ا" * 281).valid is False


def test_arabic_presentation_forms_and_arabic_comma_count_as_x_counts_them() -> None:
    # U+FEFB (ligature lam-alef, presentation form) is outside 0-4351: it weighs 2.
    assert x_text.weighted_length("\ufefb") == 2
    assert x_text.weighted_length("،؟") == 2


def test_nfc_normalisation_before_counting() -> None:
    decomposed = "e\u0301" * 10  # é as e + combining acute
    assert x_text.weighted_length(decomposed) == 10
    assert x_text.weighted_length("\u1100\u1161") == 2  # conjoining jamo compose to 가 (weight 2)


def test_emoji_sequences_count_two_each() -> None:
    assert x_text.weighted_length("👍") == 2
    assert x_text.weighted_length("👍🏽") == 2  # skin tone
    assert x_text.weighted_length("🇸🇦") == 2  # flag
    assert x_text.weighted_length("👩‍💻") == 2  # ZWJ sequence
    assert x_text.weighted_length("❤️") == 2  # with U+FE0F
    assert x_text.weighted_length("#️⃣") == 2  # keycap
    assert x_text.weighted_length("©") == 1  # text by default…
    assert x_text.weighted_length("©️") == 2  # …an emoji with U+FE0F
    assert x_text.weighted_length("☺︎") == 4  # text presentation: two code points of weight 2


def test_emoji_parsing_off_counts_code_points() -> None:
    assert x_text.parse_tweet("👍🏽", x_text.V2).weighted_length == 4


def test_links_count_23_whatever_their_length() -> None:
    long_link = "https://example.com/" + "a" * 200
    assert x_text.weighted_length(f"عرض {long_link}") == 4 + 23
    assert x_text.weighted_length("shop at example.com today") == 8 + 23 + 6
    assert x_text.weighted_length("email me at me@example.com") == 26  # not a link


def test_empty_text_is_not_a_valid_post() -> None:
    result = x_text.parse_tweet("")
    assert result.weighted_length == 0 and result.valid is False


def test_validate_text_names_the_count() -> None:
    assert x_text.validate_text("ok") == []
    problems = x_text.validate_text("日" * 141)
    assert problems == ["X: 282/280 characters (links count as 23, emoji and CJK as 2)"]


def test_config_without_required_fields_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="maxWeightedTweetLength"):
        x_text.CountingConfig.from_json({"version": 3, "scale": 100, "defaultWeight": 200})


def test_domain_like_runs_are_counted_per_character() -> None:
    # Runs that look like host names but are not links (twitter-text's pattern
    # backtracked for minutes on these before the labels were made possessive).
    text = "a." * 300 + " " + "x-" * 300 + " " + "日本" * 100
    assert x_text.extract_urls(text) == []
    assert x_text.weighted_length(text) == 600 + 1 + 600 + 1 + 400
