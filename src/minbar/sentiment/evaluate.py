"""Accuracy and macro-F1 of `analyze` on the labeled sets shipped in minbar/sentiment/eval/.

    python -m minbar.sentiment.evaluate            # the held-out evaluation sets (en.tsv, ar.tsv)
    python -m minbar.sentiment.evaluate --dev      # the development sets the lexicon is tuned on
    python -m minbar.sentiment.evaluate --errors   # also list every misclassified text

Each language is printed with two baselines from the same run: always answering the majority
class, and reading emoji only (what a text's emoji alone say).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from minbar.sentiment import analyze, arabic, lexicon

LABELS = ("positive", "neutral", "negative")
LANGUAGES = ("en", "ar")


@dataclass(frozen=True)
class Report:
    n: int
    accuracy: float
    macro_f1: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    confusion: dict[str, dict[str, int]]  # confusion[gold][predicted]


def load(name: str) -> list[tuple[str, str]]:
    """(label, text) rows of eval/<name>.tsv; lines starting with # are comments."""
    text = resources.files("minbar.sentiment").joinpath("eval", f"{name}.tsv").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, sample = line.split("\t", 1)
        if label not in LABELS:
            raise ValueError(f"{name}.tsv: unknown label {label!r}")
        rows.append((label, sample))
    return rows


def report(gold: Sequence[str], predicted: Sequence[str]) -> Report:
    confusion = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    precision, recall, f1 = {}, {}, {}
    for label in LABELS:
        true_pos = confusion[label][label]
        predicted_as = sum(confusion[g][label] for g in LABELS)
        actual = sum(confusion[label].values())
        precision[label] = true_pos / predicted_as if predicted_as else 0.0
        recall[label] = true_pos / actual if actual else 0.0
        both = precision[label] + recall[label]
        f1[label] = 2 * precision[label] * recall[label] / both if both else 0.0
    n = len(gold)
    correct = sum(confusion[label][label] for label in LABELS)
    return Report(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(f1.values()) / len(LABELS),
        precision=precision,
        recall=recall,
        f1=f1,
        confusion=confusion,
    )


def _label_of(raw: float) -> str:
    score = lexicon.normalize_score(raw)
    if score >= 0.05:
        return "positive"
    if score <= -0.05:
        return "negative"
    return "neutral"


def always(label: str) -> Callable[[str, str], str]:
    return lambda _text, _language: label


def emoji_only(text: str) -> str:
    return _label_of(arabic.emoji_score(text)[0])


def evaluate(
    rows: Sequence[tuple[str, str]],
    language: str,
    classify: Callable[[str, str], str] | None = None,
) -> Report:
    classify = classify or (lambda text, lang: analyze(text, lang).label)
    gold = [label for label, _ in rows]
    return report(gold, [classify(text, language) for _, text in rows])


def _print_report(title: str, result: Report, *, detail: bool) -> None:
    print(f"  {title:<22} accuracy {result.accuracy:6.1%}   macro-F1 {result.macro_f1:.3f}")
    if not detail:
        return
    print(f"    {'class':<9} {'precision':>9} {'recall':>7} {'F1':>6}")
    for label in LABELS:
        print(
            f"    {label:<9} {result.precision[label]:>9.3f} {result.recall[label]:>7.3f}"
            f" {result.f1[label]:>6.3f}"
        )
    print("    confusion (rows: true label, columns: predicted)")
    print("    " + " " * 9 + "".join(f"{label:>10}" for label in LABELS))
    for gold in LABELS:
        print(f"    {gold:<9}" + "".join(f"{result.confusion[gold][p]:>10}" for p in LABELS))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minbar.sentiment.evaluate")
    parser.add_argument("--dev", action="store_true", help="use the development sets")
    parser.add_argument("--errors", action="store_true", help="list misclassified texts")
    args = parser.parse_args(argv)
    for language in LANGUAGES:
        name = f"dev_{language}" if args.dev else language
        rows = load(name)
        counts = {label: sum(1 for g, _ in rows if g == label) for label in LABELS}
        sizes = "  ".join(f"{label} {count}" for label, count in counts.items())
        print(f"{language} ({name}.tsv): n={len(rows)}  {sizes}")
        majority = max(LABELS, key=lambda label: counts[label])
        _print_report("minbar.sentiment", evaluate(rows, language), detail=True)
        _print_report(
            f"baseline: all {majority}",
            evaluate(rows, language, always(majority)),
            detail=False,
        )
        _print_report(
            "baseline: emoji only",
            evaluate(rows, language, lambda text, _lang: emoji_only(text)),
            detail=False,
        )
        if args.errors:
            for gold, text in rows:
                result = analyze(text, language)
                if result.label != gold:
                    print(f"    ✗ {gold:<8} → {result.label:<8} {result.score:+.2f} {text}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
