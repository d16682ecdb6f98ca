"""The head-room curve of a leave-source-out study, from its fold dumps, as a Markdown table.

    python scripts/holdout_headroom.py DUMP [--data ../shared/datasets] [--headroom 0.3 --headroom 0.5 ...]

DUMP is the folder of `basira train --holdout all --dump DUMP` (or one of its `gate=<variant>/` folders). The
examples are loaded as the study loaded them (--data plus the default extra files), so the dumped row indices
match. Every row is the exact study of the model trained with `limit_headroom = h` (thresholds re-chosen, no
refit): see basira.detect.train.headroom_curve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from basira.detect.train import DEFAULT_EXTRA, dataset_files, headroom_curve, load_examples, news_paragraphs

HEADROOMS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump")
    ap.add_argument("--data", default="../shared/datasets")
    ap.add_argument("--extra", action="append", default=None, help="as basira train --extra (default: its defaults)")
    ap.add_argument("--headroom", action="append", type=float, default=None)
    args = ap.parse_args()
    extra = [Path(p) for p in args.extra] if args.extra else [p for p in DEFAULT_EXTRA if p.exists()]
    examples = load_examples(dataset_files(args.data) + extra)
    examples += news_paragraphs(examples)
    rows = headroom_curve(args.dump, examples, args.headroom or HEADROOMS)
    families = sorted(rows[0]["flag_rates"]) if rows else []
    print("| head-room h | " + " | ".join(families) + " | dev F1 ar median (min) |")
    print("|---:|" + "---:|" * (len(families) + 1))
    for r in rows:
        cells = [f"{r['flag_rates'].get(f, 0):.2%}" for f in families]
        print(f"| {r['headroom']} | " + " | ".join(cells) + f" | {r['ar_f1_median']} ({r['ar_f1_min']}) |")
    print()
    print("| head-room h | folds | dev F1 ar median (min) | dev F1 en median (min) | held-out flags | "
          "worst family (share of its limit) | over limit | Arabic cut (median) |")
    print("|---:|---:|---:|---:|---:|---|---|---:|")
    for r in rows:
        over = ", ".join(r["over_limit"]) or "none"
        print(f"| {r['headroom']} | {r['folds']} | {r['ar_f1_median']} ({r['ar_f1_min']}) | {r['en_f1_median']} "
              f"({r['en_f1_min']}) | {r['held_out_flagged']} | {r['worst_family']} ({r['worst_share_of_limit']:.0%}) | "
              f"{over} | {r['arabic_cut_median']} |")


if __name__ == "__main__":
    main()
