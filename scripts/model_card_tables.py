"""Print the model card's dev-metric tables (Markdown) from a model's detector.json: `python scripts/model_card_tables.py [DIR]`.

The figures are the dev report that `basira train` stored beside the weights (the dataset's own `lang`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from basira.detect.model import META_FILE, MODEL_DIR


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def table(groups: dict[str, dict]) -> list[str]:
    lines = ["| | n | positives | flagged | precision | recall | F1 | flag rate |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    order = ["all"] + sorted(k for k in groups if k != "all")
    for name in order:
        c = groups[name]
        lines.append(
            f"| {name} | {c['n']} | {c['positives']} | {c['flagged']} | {_fmt(c['precision'])} | {_fmt(c['recall'])} "
            f"| {_fmt(c['f1'])} | {100 * c['flag_rate']:.2f} % |"
        )
    return lines


def main(directory: Path) -> None:
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    report = meta["dev_report"]
    out = [f"Model `{meta['version']}`", "", "**By file**", "", *table(report["by_file"]), "",
           "**By language (the dataset's `lang`)**", "", *table(report["by_lang"]), ""]
    cuts = {"default": meta["threshold"], **meta.get("lang_thresholds", {})}
    out.append("Thresholds: " + ", ".join(f"{k} {v:.4f}" for k, v in cuts.items())
               + f"; no-support penalty {meta.get('no_support_penalty', 0.0)}")
    print("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL_DIR)
