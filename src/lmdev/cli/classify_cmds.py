"""Classifier commands: classify and eval."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.output import TextOrJson, message, out, print_json, progress
from lmdev.errors import UsageError


class EvalFormat(str, Enum):
    text = "text"
    json = "json"


def _print_result_text(result, title: str) -> None:  # type: ignore[no-untyped-def]
    if not sys.stdout.isatty():
        _print_result_plain(result, title)
        return
    from rich.markup import escape

    console = out()
    console.print(f"[bold]{escape(result.paper_id)}[/]  {escape(title)}")
    for s in [*result.problems, *result.assumptions]:
        if not s.reasons and not s.suggested:
            continue
        mark = "[green]✓[/]" if s.suggested else "[yellow]?[/]"
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        console.print(f"  {mark} {s.kind:<10} {escape(label):<32} {s.score:.2f}")
        for reason in s.reasons[:2]:
            console.print(f"      [dim]{escape(reason)}[/]")


def _print_result_plain(result, title: str) -> None:  # type: ignore[no-untyped-def]
    """The same as the terminal rendering, without rich: piped output stays quick to produce."""
    lines = [f"{result.paper_id}  {title}"]
    for s in [*result.problems, *result.assumptions]:
        if not s.reasons and not s.suggested:
            continue
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        lines.append(f"  {'✓' if s.suggested else '?'} {s.kind:<10} {label:<32} {s.score:.2f}")
        lines.extend(f"      {reason}" for reason in s.reasons[:2])
    print("\n".join(lines))


@app.command(epilog=examples(
    "lmdev classify                         suggestions for papers without tags",
    "lmdev classify 2307.03172 --format json",
    "lmdev classify --all --apply           write suggested tags (a person's tags are never touched)",
    "lmdev classify --input new.jsonl --format json > suggestions.json",
))
def classify(
    ctx: typer.Context,
    ids: Optional[list[str]] = typer.Argument(None, metavar="[ID]...", help="Papers in the library (default: those without tags)."),
    all_papers: bool = typer.Option(False, "--all", help="Every paper in the library."),
    apply: bool = typer.Option(False, "--apply", help="Write suggested tags, marked as the classifier's."),
    min_score: Optional[float] = typer.Option(None, "--min-score", metavar="SCORE", min=0.0, max=1.0, help="Suggest tags scoring at least this (instead of each tag's own threshold)."),
    input_file: Optional[Path] = typer.Option(None, "--input", metavar="FILE", help="Classify papers not in the library: a JSONL file of arXiv records, a paper YAML file or a folder of them."),
    workers: Optional[int] = typer.Option(None, "--workers", metavar="N", min=1, help="Worker processes for large inputs (default: up to 4, one per core)."),
    retrain: bool = typer.Option(False, "--retrain", help="Ignore the cached model and train afresh."),
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f"),
) -> None:
    """Suggest problems and assumptions, with calibrated scores and reasons."""
    from lmdev.classifier.modelcache import load_model

    lib = library(ctx)
    if input_file is not None:
        if ids or all_papers or apply:
            raise UsageError("--input classifies papers outside the library; it does not go with ids, --all or --apply")
        model = load_model(lib, retrain=retrain)
        _classify_input(lib, model, input_file, fmt, workers, min_score)
        return
    if ids:
        papers = [lib.get(i) for i in ids]
    else:
        papers = [p for p in lib.papers() if all_papers or not p.is_tagged()]
    if not papers:
        message("no untagged papers to classify; name ids or use --all")
        return
    model = load_model(lib, retrain=retrain)
    from lmdev.cli.review import suggestions_for
    from lmdev.classifier.modelcache import apply_suggestions

    results = []
    for paper in papers:
        result = suggestions_for(model, paper)
        if min_score is not None:
            for s in [*result.problems, *result.assumptions]:
                s.suggested = s.score >= min_score
        results.append((paper, result))
    if fmt is TextOrJson.json:
        print_json([r.to_json() for _, r in results])
    else:
        for paper, result in results:
            _print_result_text(result, paper.title)
    if apply:
        for paper, result in results:
            applied = apply_suggestions(paper, result, lib, min_score=min_score)
            if lib.save(paper):
                message(f"{paper.id}: added {', '.join(applied.added) or 'nothing'}" + (f"; removed {', '.join(applied.removed)}" if applied.removed else ""))


def _classify_input(lib, model, source: Path, fmt: TextOrJson, workers: Optional[int], min_score: Optional[float]) -> None:  # type: ignore[no-untyped-def]
    from lmdev.classifier import bulk as batch
    from lmdev.classifier.modelcache import model_path, read_records

    if min_score is not None:
        model.thresholds = [min_score] * len(model.thresholds)
    if not source.exists():
        raise UsageError(f"no such input: {source}")
    writer = sys.stdout
    first = True
    errors: list[str] = []

    def emit(line: str) -> None:
        nonlocal first
        if fmt is TextOrJson.json:
            writer.write(("[\n" if first else ",\n") + line)
        else:
            writer.write(line + "\n")
        first = False

    jsonl = source.is_file() and source.suffix not in (".yaml", ".yml")
    total = batch.count_lines(source) if jsonl else 0
    n_workers = workers or batch.default_workers()
    path = model_path(lib)
    if jsonl and total >= batch.PARALLEL_FROM and n_workers > 1 and path.exists() and min_score is None:
        with progress(total, "classifying") as advance:
            for outputs, errs in batch.classify_jsonl(source, model, lib.root / "taxonomy.yaml", path, fmt.value, workers=n_workers, advance=advance):
                for line in outputs:
                    emit(line)
                errors.extend(errs)
    else:
        with progress(total, "classifying") as advance:
            for line, error in batch.classify_records(model, read_records(source), fmt.value):
                if line is not None:
                    emit(line)
                else:
                    errors.append(error or "")
                advance(1)
    if fmt is TextOrJson.json:
        writer.write("[]\n" if first else "\n]\n")
    for error in errors[:20]:
        message(f"skipped {error}")
    if len(errors) > 20:
        message(f"... and {len(errors) - 20} more bad records")
    if errors:
        raise typer.Exit(1)


@app.command("eval", epilog=examples("lmdev eval", "lmdev eval --folds 10 --format json"))
def eval_cmd(
    ctx: typer.Context,
    folds: int = typer.Option(5, "--folds", metavar="K", min=2, max=20, help="Number of cross-validation folds."),
    fmt: EvalFormat = typer.Option(EvalFormat.text, "--format", "-f"),
) -> None:
    """Cross-validate the classifier on the tagged papers, beside a seed-terms-only baseline."""
    from lmdev.classifier.evaluation import cross_validate

    lib = library(ctx)
    papers = lib.papers()
    with progress(folds, "cross-validating", minimum=1):
        evaluation = cross_validate(lib.taxonomy, papers, folds)
    if fmt is EvalFormat.json:
        print_json(evaluation.to_json())
        return
    from rich.table import Table

    console = out()
    m, b = evaluation.model, evaluation.baseline
    console.print(f"[bold]{folds}-fold cross-validation on {evaluation.papers} tagged papers[/] (learned model vs seed terms only)\n")
    table = Table(box=None, pad_edge=False)
    for column in ("tag", "kind", "papers", "P", "R", "F1", "base P", "base R", "base F1"):
        table.add_column(column, justify="left" if column in ("tag", "kind") else "right", no_wrap=True)
    for tm, tb in zip(m.tags, b.tags):
        table.add_row(tm.id, tm.kind, str(tm.support), f"{tm.precision:.2f}", f"{tm.recall:.2f}", f"{tm.f1:.2f}", f"{tb.precision:.2f}", f"{tb.recall:.2f}", f"{tb.f1:.2f}")
    console.print(table)
    summary = Table(box=None, pad_edge=False, title="Summary", title_justify="left", title_style="bold")
    for column in ("figure", "model", "baseline"):
        summary.add_column(column, justify="left" if column == "figure" else "right")
    for key, label in (("micro_f1", "micro F1 (all tags)"), ("macro_f1", "macro F1 (all tags)"), ("problems_micro_f1", "micro F1, problems"), ("problems_macro_f1", "macro F1, problems"), ("assumptions_micro_f1", "micro F1, assumptions"), ("assumptions_macro_f1", "macro F1, assumptions")):
        summary.add_row(label, f"{m.summary[key]:.3f}", f"{b.summary[key]:.3f}")
    summary.add_row("top-ranked problem correct", f"{m.top_problem_accuracy:.3f}", f"{b.top_problem_accuracy:.3f}")
    if m.stance_accuracy is not None and b.stance_accuracy is not None:
        summary.add_row("stance correct (true assumptions)", f"{m.stance_accuracy:.3f}", f"{b.stance_accuracy:.3f}")
    console.print()
    console.print(summary)
    delta = m.summary["micro_f1"] - b.summary["micro_f1"]
    verdict = "beats" if delta > 0 else "does not beat"
    console.print(f"\nThe learned model {verdict} the seed-terms baseline on micro F1 ({delta:+.3f}). Thresholds are tuned per tag on held-out scores; tags with fewer than 3 papers use seed terms only.")
