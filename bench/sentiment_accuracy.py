"""Accuracy of ``sentiment.classify`` on the labelled posts: intent and polarity label,
confusion matrices, and the same per tag and per language.

    python3 bench/sentiment_accuracy.py              # the held-out test split
    python3 bench/sentiment_accuracy.py --split dev  # the split the rules are tuned on
    python3 bench/sentiment_accuracy.py --misses     # also list every miss

Needs no Odoo: only the engine and vaderSentiment. Prints markdown, so the output
can go to readme/SENTIMENT.md as is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from social_crm_module import sentiment


def matrix(confusion, keys) -> list[str]:
    lines = [
        "| expected \\ predicted | " + " | ".join(keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for expected in keys:
        cells = [str(confusion.get((expected, got), 0)) for got in keys]
        lines.append(f"| **{expected}** | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev", "all"])
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)

    rows = sentiment.labelled_posts(None if args.split == "all" else args.split)
    started = time.perf_counter()
    overall, per_tag, misses = sentiment.evaluate(rows)
    elapsed = time.perf_counter() - started

    out = [
        f"Split `{args.split}`: {overall.n} posts, model `{sentiment.model_in_use()}`, "
        f"{1000 * elapsed / max(overall.n, 1):.2f} ms a post (first call loads the lexicon).",
        "",
        "| | accuracy |",
        "|---|---:|",
        f"| intent (5 classes) | {overall.intent_accuracy:.1%} |",
        f"| polarity label (3 classes) | {overall.label_accuracy:.1%} |",
        "",
        "Intent confusion (rows: the label, columns: the model):",
        "",
        *matrix(overall.intent_confusion, sentiment.INTENTS),
        "",
        "Polarity confusion:",
        "",
        *matrix(overall.label_confusion, sentiment.LABELS),
        "",
        "Per tag and language (a post can carry several tags):",
        "",
        "| tag | posts | intent | polarity |",
        "|---|---:|---:|---:|",
    ]
    for tag, report in sorted(per_tag.items(), key=lambda kv: (kv[0].startswith("lang:"), kv[0])):
        out.append(
            f"| {tag} | {report.n} | {report.intent_accuracy:.0%} | {report.label_accuracy:.0%} |"
        )
    if args.misses:
        out += ["", "| text | expected | got |", "|---|---|---|"]
        for row, got in misses:
            text = row["text"].replace("|", "\\|")
            out.append(
                f"| {text} | {row['intent']}/{row['polarity_label']} "
                f"| {got.intent}/{got.label} ({got.polarity:+.2f}) |"
            )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
