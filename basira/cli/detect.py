"""`basira classify | eval | train`: the detector's commands (basira.detect; docs/model-card.md)."""

from __future__ import annotations

import typer
from rich.console import Console

from basira.cli._common import count_lines, err, fail, progress_bar
from basira.core.errors import InputError


def classify(
    input: str = typer.Argument(..., metavar="IN.jsonl", help="JSON Lines with `id` and `text` ('-' = stdin)."),
    output: str = typer.Option("-", "--output", "-o", help="Where to write results ('-' = stdout)."),
    threshold: float | None = typer.Option(None, help="Override the model's decision threshold (0–1)."),
    fast: bool = typer.Option(False, "--fast", help="First stage only: skip the embedding second stage."),
) -> None:
    """Score each text: score, flagged, lang, categories and evidence spans on the original text."""
    from basira.core.jsonio import atomic_output
    from basira.detect import load_detector
    from basira.detect.batch import classify_pool, classify_stream, pool_workers

    try:
        detector = load_detector(threshold=threshold, cascade=not fast)
        show = output != "-" and input != "-"
        # The worker pool forks before the progress bar's thread starts.
        with classify_pool(detector, pool_workers(input)) as pool, progress_bar(enabled=show) as progress:
            task = progress.add_task("classifying", total=count_lines(input) if show else None)
            with atomic_output(output) as out:
                n = classify_stream(input, out, detector, lambda k: progress.advance(task, k), pool)
    except InputError as exc:
        raise fail(exc) from None
    if output != "-":
        err.print(f"classified {n} records → {output}")


def eval_(
    files: list[str] = typer.Argument(..., metavar="FILE.jsonl...", help="Labelled JSON Lines (id, text, label)."),
    threshold: float | None = typer.Option(None, help="Override the model's decision threshold."),
    dev_only: bool = typer.Option(False, "--dev-only", help="Only rows in the dev split (not seen in training)."),
    worst: int = typer.Option(5, help="How many worst mistakes to show of each kind."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    obfuscate: str | None = typer.Option(
        None, help="Obfuscate every text first (tatweel, diacritics, invisible, bidi, homoglyphs, "
        "presentation_forms, spaced_letters) to measure robustness."
    ),
) -> None:
    """Precision, recall, F1 and flag rate per file and per language, and the worst mistakes."""
    from basira.detect.obfuscate import OBFUSCATIONS
    from basira.detect.obfuscate import obfuscate as apply_obfuscation

    if obfuscate is not None and obfuscate not in OBFUSCATIONS:
        err.print(f"[bold red]error:[/] --obfuscate: unknown kind {obfuscate!r}; one of {', '.join(OBFUSCATIONS)}")
        raise typer.Exit(code=2)
    transform = (lambda text: apply_obfuscation(text, obfuscate)) if obfuscate else None
    import orjson
    from rich.table import Table

    from basira.detect import load_detector
    from basira.detect.batch import evaluate_files
    from basira.detect.train import is_dev, split_key

    keep = (lambda stem, obj: is_dev(split_key(stem, obj))) if dev_only else (lambda stem, obj: True)
    try:
        detector = load_detector(threshold=threshold)
        with progress_bar(enabled=not as_json) as progress:
            task = progress.add_task("evaluating", total=sum(count_lines(f) or 0 for f in files))
            report = evaluate_files(files, detector, keep, worst, lambda k: progress.advance(task, k), transform)
    except InputError as exc:
        raise fail(exc) from None
    if as_json:
        print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    cuts = ", ".join(f"{k} {v:.3f}" for k, v in report.thresholds.items())
    for title, groups in (("by file", report.by_file), ("by language", report.by_lang)):
        table = Table(title=f"{title} (thresholds: {cuts})")
        for col in ("", "n", "positives", "flagged", "precision", "recall", "F1", "flag rate"):
            if col:
                table.add_column(col, justify="right")
            else:
                table.add_column(col, no_wrap=True, min_width=max(len(k) for k in groups))
        fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        for name, c in groups.items():
            table.add_row(name, str(c.n), str(c.positives), str(c.flagged), fmt(c.precision), fmt(c.recall), fmt(c.f1), f"{c.flag_rate:.4f}")
        console.print(table)
    for title, items in (("worst false positives", report.false_positives), ("worst false negatives", report.false_negatives)):
        console.print(f"[bold]{title}[/]")
        for score, name, rid, text in items:
            console.print(f"  {score:.3f} {name} {rid}: ", end="", highlight=False)
            console.print(text.replace("\n", " "), markup=False, highlight=False)


def train(
    data: str = typer.Option("../shared/datasets", help="Folder of labelled *.jsonl files."),
    out: str | None = typer.Option(None, help="Where to write the model (default: the packaged model folder)."),
    holdout: list[str] = typer.Option(
        [], help="Instead of saving a model: the leave-source-out study. 'all' = every negative source family "
        "(each file, and each source inside the multi-source files), or name families (repeatable). Prints JSON; "
        "--table writes the Markdown table."
    ),
    table: str | None = typer.Option(None, help="With --holdout: write the Markdown table here."),
    jobs: int = typer.Option(1, help="With --holdout: folds run in this many processes (one core each)."),
    dump: str | None = typer.Option(
        None, help="With --holdout: write each fold's held-out and dev scores to this folder (for re-choosing "
        "thresholds without refitting: scripts/holdout_headroom.py)."
    ),
    extra: list[str] = typer.Option(
        [], help="More labelled JSON Lines, instead of the defaults: the synthetic Russian fixture (its own "
        "train/test split) and the written English devotional source and counterfactual pairs "
        "(basira/detect/training/README.md)."
    ),
    gate_stance: str | None = typer.Option(
        None, help="Stance columns of the support gate, comma-separated: flags of basira.detect.stance "
        "(scripture_frame, attributed_speech, devotion, ...) or margin×FLAG products; 'none' = v3's gate; default: "
        "the shipped model's (scripture_frame,attributed_speech)."
    ),
    gate_variant: list[str] = typer.Option(
        [], help="With --holdout: also refit only the gate of each fold with these stance columns "
        "(comma-separated, repeatable; 'none' = v3's gate) and report each variant's held-out figures."
    ),
) -> None:
    """Train the detector reproducibly (fixed seeds, dev split by id/account hash) and save it."""
    from pathlib import Path

    from basira.detect.stance import STANCE_FEATURES
    from basira.detect.train import DEFAULT_EXTRA, TrainConfig, dataset_files, holdout_table, source_holdout
    from basira.detect.train import train as train_detector

    def stance_names(spec: str) -> tuple[str, ...]:
        names = tuple(n.strip() for n in spec.split(",") if n.strip())
        for n in names:
            if n.removeprefix("margin×") not in STANCE_FEATURES:
                raise ValueError(f"--gate-stance/--gate-variant: unknown stance feature {n!r}; one of "
                                 f"{', '.join(STANCE_FEATURES)} (or margin×FEATURE)")
        return names

    try:
        config = TrainConfig() if gate_stance is None else TrainConfig(
            gate_stance=() if gate_stance.strip().lower() == "none" else stance_names(gate_stance))
        variants = [() if v.strip().lower() == "none" else stance_names(v) for v in gate_variant]
        files = dataset_files(data) + [Path(p) for p in (extra or [str(p) for p in DEFAULT_EXTRA if p.exists()])]
        if holdout:
            import json

            families = None if holdout == ["all"] else holdout
            report = source_holdout(files, families, config, progress=lambda m: err.print(m), jobs=jobs, dump=dump,
                                    gate_variants=variants)
            print(json.dumps(report, indent=2, ensure_ascii=False))
            if table:
                Path(table).write_text(holdout_table(report) + "\n", encoding="utf-8")
            return
        result = train_detector(files, config, progress=lambda m: err.print(m))
    except (InputError, FileNotFoundError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    from basira.detect.model import MODEL_DIR

    target = Path(out) if out else MODEL_DIR
    result.model.save(target)
    cuts = {"default": result.model.threshold, **result.model.script_thresholds}
    err.print(f"thresholds {cuts}; model {result.model.version} → {target}")
    for name, c in result.report["by_file"].items():
        err.print(f"  {name:26s} n={c['n']:6d} P={c['precision']} R={c['recall']} F1={c['f1']} flag={c['flag_rate']}")
