"""Accuracy of ``sentiment.classify`` on the labelled posts: intent and polarity label,
confusion matrices, the same per tag and per language, and the learned model's
cross-validated figures on its whole training corpus.

    python3 bench/sentiment_accuracy.py                # held-out test split + 5-fold CV
    python3 bench/sentiment_accuracy.py --no-cv        # the held-out split only
    python3 bench/sentiment_accuracy.py --model vader  # the rules alone
    python3 bench/sentiment_accuracy.py --split dev    # the split trained on
    python3 bench/sentiment_accuracy.py --split blind2 # a blind set (blind1, blind2, blind)
    python3 bench/sentiment_accuracy.py --misses       # also list every miss

Needs no Odoo: the engine and vaderSentiment; the cross-validation also needs
scikit-learn (requirements-test.txt). Prints markdown, so the output can go to
readme/SENTIMENT.md as is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from social_crm_module import sentiment
from social_crm_module.classifier import train  # scikit-learn only to cross-validate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split", default="test", choices=["test", "dev", "all", "blind1", "blind2", "blind"]
    )
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--model", default=sentiment.model_in_use(), help="a registered model")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    args = parser.parse_args(argv)
    sentiment.use_model(args.model)

    rows = posts(args.split)
    loading = time.perf_counter()
    sentiment.classify("warm up")  # loads the model
    loaded = time.perf_counter() - loading
    started = time.perf_counter()
    overall, per_tag, misses = sentiment.evaluate(rows)
    elapsed = time.perf_counter() - started

    out = [
        f"Split `{args.split}`: {overall.n} posts, model `{sentiment.model_in_use()}`, "
        f"{1000 * elapsed / max(overall.n, 1):.2f} ms a post "
        f"(loading the model took {loaded:.2f} s).",
        "",
        "| | accuracy |",
        "|---|---:|",
        f"| intent (5 classes) | {overall.intent_accuracy:.1%} |",
        f"| polarity label (3 classes) | {overall.label_accuracy:.1%} |",
        f"| complaints read as praise | {overall.intent_confusion[('complaint', 'praise')]} "
        f"of {sum(v for (e, _g), v in overall.intent_confusion.items() if e == 'complaint')} |",
        "",
        "Intent confusion (rows: the label, columns: the model):",
        "",
        *train.markdown_matrix(overall.intent_confusion, sentiment.INTENTS),
        "",
        "Polarity confusion:",
        "",
        *train.markdown_matrix(overall.label_confusion, sentiment.LABELS),
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
    if args.split == "test":
        out += ["", *blind_summary()]
    if not args.no_cv and args.model == "learned":
        out += ["", *cross_validated()]
    print("\n".join(out))
    return 0


BLIND_POSTS = Path(sentiment.LABELLED_POSTS).with_name("blind_posts.csv")


def posts(split: str) -> list[dict]:
    """The labelled set's split (``test``, ``dev``, ``all``) or a blind set."""
    if split.startswith("blind"):
        rows = sentiment.labelled_posts(None, path=BLIND_POSTS)
        return [row for row in rows if split == "blind" or row["set"] == split]
    return sentiment.labelled_posts(None if split == "all" else split)


def blind_summary() -> list[str]:
    """The blind sets: posts written by people who never saw the training corpus."""
    lines = [
        "Blind sets (never trained on, written without seeing the training corpus):",
        "",
        "| set | posts | intent | polarity | complaints read as praise |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("blind1", "blind2"):
        report, _per_tag, _misses = sentiment.evaluate(posts(name))
        complaints = sum(v for (e, _g), v in report.intent_confusion.items() if e == "complaint")
        lines.append(
            f"| {name} | {report.n} | {report.intent_accuracy:.1%} | "
            f"{report.label_accuracy:.1%} | "
            f"{report.intent_confusion[('complaint', 'praise')]} of {complaints} |"
        )
    return lines


def cross_validated() -> list[str]:
    rows = train.corpus()
    try:
        scores = train.cross_validate(rows)
    except ImportError as exc:
        return [f"(no cross-validation: {exc}; pip install -r requirements-test.txt)"]
    return [
        f"Learned model, {train.FOLDS}-fold cross-validated on its {scores.n} training posts "
        "(out-of-fold predictions; `bench/train_classifier.py` prints the matrices):",
        "",
        *scores.accuracy_table(),
    ]


if __name__ == "__main__":
    sys.exit(main())
