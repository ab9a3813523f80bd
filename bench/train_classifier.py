"""Rebuild the learned classifier's weights and report how well it generalises.

    python3 bench/train_classifier.py                      # CV report + rewrite the weights
    python3 bench/train_classifier.py --extra fixes.csv    # add a company's corrections
    python3 bench/train_classifier.py --no-save            # report only
    python3 bench/train_classifier.py --folds 0            # skip cross-validation

Reads ``social_crm_module/data/training_posts.csv`` and the ``dev`` split of
``labelled_posts.csv`` (never its ``test`` split), plus every ``--extra`` CSV:

    text,intent,polarity_label,lang
    "Nice fabric, terrible fit.",complaint,negative,en

(UTF-8, a header row; ``intent`` one of praise, complaint, question,
purchase_intent, other; ``polarity_label`` one of positive, neutral, negative; ``lang``
an ISO 639-1 code or empty; other columns are ignored. A text already in the corpus
is replaced by the extra row: the correction wins.)

Prints, as markdown: k-fold cross-validated intent and polarity accuracy, the
confusion matrices, the number of complaints read as praise, accuracy above the
confidence threshold, and the same on the held-out ``test`` split for the model
trained on everything. Then writes ``social_crm_module/data/classifier_weights.json.gz``
(or ``--out``), byte for byte the same for the same rows. Needs scikit-learn
(``requirements-test.txt``); the add-on itself does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from social_crm_module import sentiment
from social_crm_module.classifier import linear, train


def report(title: str, scores: train.Scores) -> list[str]:
    return [
        f"### {title}: {scores.n} posts",
        "",
        *scores.accuracy_table(),
        "",
        "Intent confusion (rows: the label, columns: the model):",
        "",
        *train.markdown_matrix(scores.intent_confusion, sentiment.INTENTS),
        "",
        "Polarity confusion:",
        "",
        *train.markdown_matrix(scores.label_confusion, sentiment.LABELS),
        "",
        "| language | posts | intent | polarity |",
        "|---|---:|---:|---:|",
        *(
            f"| {lang} | {n} | {right / n:.0%} | {label / n:.0%} |"
            for lang, (n, right, label) in sorted(scores.by_lang.items())
        ),
        "",
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=Path, action="append", default=[], help="extra CSV")
    parser.add_argument("--folds", type=int, default=train.FOLDS, help="0 skips the CV")
    parser.add_argument("--c", type=float, default=train.C, help="inverse regularisation")
    parser.add_argument("--out", type=Path, default=linear.WEIGHTS)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the cross-validated misses")
    args = parser.parse_args(argv)

    rows = train.corpus(args.extra)
    langs = sorted({row.lang for row in rows if row.lang})
    out = [
        f"Training rows: {len(rows)} ({', '.join(langs)}); "
        f"{sum(row.weight != 1.0 for row in rows)} from extra CSVs.",
        "",
    ]
    started = time.perf_counter()
    if args.folds > 1:
        cv = train.cross_validate(rows, args.folds, c=args.c)
        out += report(f"{args.folds}-fold cross-validation (out-of-fold predictions)", cv)
        if args.misses:
            out += ["| text | expected | got |", "|---|---|---|"]
            for row, got in sorted(cv.misses, key=lambda m: (m[0].intent, m[1].intent)):
                text = row.text.replace("|", "\\|").replace("\n", " ")
                out.append(
                    f"| {text} | {row.intent}/{row.label} "
                    f"| {got.intent}/{got.label} ({got.confidence:.2f}) |"
                )
            out.append("")
    model = train.fit(rows, c=args.c, meta={"rows": len(rows), "c": args.c})
    out += report(
        "Held-out `test` split of labelled_posts.csv", train.score(model, train.held_out_rows())
    )
    out.append(f"Weight columns: {len(model.table)}; {time.perf_counter() - started:.0f} s.")
    if not args.no_save:
        linear.save_weights(model, args.out)
        out.append(f"Wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB).")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
