"""The composer counts X posts by X's rules (minbar.connectors.x.text, twitter-text v3)."""

from __future__ import annotations

from minbar.connectors.x import XConnector
from minbar.publishing.validation import problems_for, text_length

X = XConnector.capabilities


def test_weighted_length_uses_x_rules() -> None:
    assert text_length("مرحبا", X) == 5  # Arabic: weight 1 per code point
    assert text_length("日本", X) == 4  # CJK: 2
    assert text_length("👨‍👩‍👧‍👦 hi", X) == 5  # one emoji sequence: 2
    assert text_length("see https://example.com/" + "a" * 100, X) == 4 + 23
    assert text_length("see example.com/menu", X) == 4 + 23  # X finds links without https://


def test_problems_name_the_weighted_count() -> None:
    assert problems_for(X, text="\u0627" * 280) == []  # 280 Arabic alefs fit
    (problem,) = problems_for(X, text="日" * 141)
    assert "282/280" in problem and "weighted" in problem
