"""Sentiment: texts per second for English and Arabic, against naive ways of doing the same.

The inbox benchmark (100,000 interactions through dedupe, contact matching, sentiment and
rules at >= 2,000 interactions/s on SQLite) leaves sentiment well under 0.5 ms a text; this
measures `minbar.sentiment.analyze` alone on the shipped social-media texts (the evaluation
and development sets, about 285 short texts a language, cycled to the requested size).

Rows, each 5 runs after a warm-up run, median and 95th percentile of the per-text time:

* ``analyze(text, "en")`` / ``analyze(text, "ar")`` / ``analyze(text)`` on both (detection);
* baseline EN — vaderSentiment's own ``polarity_scores`` on one cached analyzer (what Minbar
  wraps), and a new ``SentimentIntensityAnalyzer()`` per text (the naive call; few texts);
* baseline AR — the same analyzer with its word-lookup cache emptied before every text (every
  word normalized and its clitics stripped again).

No database, no network.

    .venv/bin/python bench/sentiment.py
    .venv/bin/python bench/sentiment.py --texts 50000 --runs 7
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from itertools import cycle, islice

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from minbar.sentiment import analyze, arabic, english, evaluate


def corpus(language: str, size: int) -> list[str]:
    texts = [text for _, text in evaluate.load(language) + evaluate.load(f"dev_{language}")]
    return list(islice(cycle(texts), size))


def measure(
    call: Callable[[str], object], texts: Sequence[str], runs: int
) -> tuple[float, float, float]:
    """(texts/s median over runs, per-text p50 µs, per-text p95 µs) after one warm-up run."""
    for text in texts:
        call(text)
    rates: list[float] = []
    per_text: list[float] = []
    clock = time.perf_counter
    for _ in range(runs):
        started = clock()
        for text in texts:
            before = clock()
            call(text)
            per_text.append(clock() - before)
        rates.append(len(texts) / (clock() - started))
    per_text.sort()
    p50 = per_text[len(per_text) // 2] * 1e6
    p95 = per_text[int(len(per_text) * 0.95)] * 1e6
    return statistics.median(rates), p50, p95


def cold_arabic(text: str) -> object:
    arabic._cache.clear()
    return analyze(text, "ar")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=20_000, help="texts per run and language")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-texts", type=int, default=30, help="texts for the per-call row")
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"{args.texts:,} texts per run and language, {args.runs} runs after a warm-up\n")
    en = corpus("en", args.texts)
    ar = corpus("ar", args.texts)
    both = [text for pair in zip(en, ar, strict=True) for text in pair][: args.texts]
    vader = SentimentIntensityAnalyzer()
    english.analyzer()  # built once per process, like a worker would

    rows: list[tuple[str, str, tuple[float, float, float]]] = [
        ("en", "analyze(text, 'en')", measure(lambda t: analyze(t, "en"), en, args.runs)),
        (
            "en",
            "baseline: VADER polarity_scores",
            measure(vader.polarity_scores, en, args.runs),
        ),
        (
            "en",
            "baseline: new VADER analyzer per text",
            measure(
                lambda t: SentimentIntensityAnalyzer().polarity_scores(t), en[: args.naive_texts], 1
            ),
        ),
        ("ar", "analyze(text, 'ar')", measure(lambda t: analyze(t, "ar"), ar, args.runs)),
        ("ar", "baseline: no word-lookup cache", measure(cold_arabic, ar, args.runs)),
        ("en+ar", "analyze(text) (detected)", measure(analyze, both, args.runs)),
    ]
    reference = {"en": rows[1][2][0], "ar": rows[4][2][0]}

    header = ("language", "what", "texts/s", "p50 µs", "p95 µs", "vs baseline")
    table = [header]
    for language, what, (rate, p50, p95) in rows:
        base = reference.get(language)
        ratio = f"{rate / base:.3g}x" if base else ""
        table.append((language, what, f"{rate:,.0f}", f"{p50:.1f}", f"{p95:.1f}", ratio))
    widths = [max(len(row[col]) for row in table) for col in range(len(header))]
    for index, row in enumerate(table):
        cells = [
            cell.ljust(width) if col < 2 else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
        if index == 0:
            print(
                "| "
                + " | ".join(
                    "-" * w if c < 2 else "-" * (w - 1) + ":" for c, w in enumerate(widths)
                )
                + " |"
            )
    print(
        "\nvs baseline: texts/s over the language's baseline row "
        "(en: VADER polarity_scores, ar: no word-lookup cache)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
