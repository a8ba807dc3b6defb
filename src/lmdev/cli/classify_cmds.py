"""Classifier commands: classify and eval."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev.cli import render
from lmdev.cli.base import app, examples, library, readable_papers, require_file, trained_model
from lmdev.cli.completion import paper_ids
from lmdev.cli.options import FormatOption, TextOrJson
from lmdev.cli.output import message, note, print_json, progress, safe
from lmdev.errors import UsageError

if TYPE_CHECKING:
    from lmdev.classifier.model import Model
    from lmdev.models import Paper
    from lmdev.store import Library


@app.command(epilog=examples(
    "lmdev classify                         suggestions for papers without tags",
    "lmdev classify 2307.03172 --format json",
    "lmdev classify --all --apply           write suggested tags (a person's tags are never touched)",
    "lmdev classify --input new.jsonl --format json > suggestions.json",
    "lmdev classify 2307.03172 --explain   reasons for every tag, not only the suggested ones",
    "lmdev classify 2605.08427 --explain   a paper waiting in the inbox: why it ranks where it does",
))
def classify(
    ctx: typer.Context,
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="ID", autocompletion=paper_ids, help="Papers in the library or waiting in the inbox (default: stored papers without tags).")] = None,
    all_papers: Annotated[bool, typer.Option("--all", help="Every paper in the library.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Write suggested tags, marked as the classifier's.")] = False,
    min_score: Annotated[Optional[float], typer.Option("--min-score", metavar="SCORE", min=0.0, max=1.0, help="Suggest tags scoring at least this (instead of each tag's own threshold).")] = None,
    input_file: Annotated[Optional[Path], typer.Option("--input", metavar="FILE", help="Classify papers not in the library: a JSONL file of arXiv records, a paper YAML file or a folder of them.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", metavar="N", min=1, help="Worker processes for large inputs (default: up to 4, one per core).")] = None,
    retrain: Annotated[bool, typer.Option("--retrain", help="Ignore the cached model and train afresh.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Give reasons for every tag, not only the suggested ones.")] = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Suggest problems and assumptions, with calibrated scores and reasons, and say how relevant
    each paper is to the essay's agenda and which problem it attacks most (its primary)."""
    lib = library(ctx)
    if input_file is not None and (ids or all_papers or apply):
        raise UsageError("--input classifies papers outside the library; it does not go with ids, --all or --apply")
    if input_file is not None and explain and fmt is not TextOrJson.json:
        raise UsageError("--explain with --input needs --format json: the text output is one line per paper, with no room for reasons")
    if input_file is not None:
        _check_input(input_file)
    papers = [] if input_file is not None else _named(lib, ids, apply) if ids else [p for p in readable_papers(lib) if all_papers or not p.is_tagged()]
    if input_file is None and not papers:
        message("no papers to classify: the library is empty" if all_papers else "no untagged papers to classify; name ids or use --all")
        return
    model = trained_model(lib, retrain=retrain)  # a file readable_papers named already is not named again
    model.min_score = min_score
    reasons = "all" if explain else "suggested"
    if input_file is not None:
        _classify_input(lib, model, input_file, fmt, workers, reasons)
        return
    from lmdev.classifier.apply import apply_to_stored, suggestions_for

    results = [(paper, suggestions_for(model, paper, reasons=reasons)) for paper in papers]
    if fmt is TextOrJson.json:
        print_json([r.to_json() for _, r in results])
    else:
        for paper, result in results:
            render.classification(result, paper.title, terminal=sys.stdout.isatty())
    if apply:
        for paper, result in results:
            applied, changed = apply_to_stored(lib, paper.id, result)
            if changed:
                kept = f"; {applied.kept} is the likeliest assumption, kept unsuggested so the paper maps to one (lmdev review confirms or changes it)" if applied.kept else ""
                message(f"{paper.id}: added {', '.join(applied.added) or 'nothing'}" + (f"; removed {', '.join(applied.removed)}" if applied.removed else "") + kept)


def _named(lib: Library, ids: list[str], apply: bool) -> list[Paper]:
    """The papers the ids name: stored ones, or ones waiting in the inbox (to see why the inbox
    ranks a paper where it does, every reason with ``--explain``); ``--apply`` writes into the
    library, so it takes stored papers only."""
    from lmdev.errors import NotFoundError
    from lmdev.inbox import InboxItem
    from lmdev.models import Paper
    from lmdev.triage import lookup

    papers = []
    for text in ids:
        found = lookup(lib, text)
        if isinstance(found, Paper):
            papers.append(found)
        elif not isinstance(found, InboxItem):
            raise NotFoundError(f"{found.id} was rejected ({found.reason}); lmdev show {found.id} gives the record")
        elif apply:
            raise NotFoundError(f"{found.id} waits in the inbox, and --apply writes to stored papers: lmdev accept {found.id} takes it in with its suggestions")
        else:
            papers.append(found.paper())
    return papers


def _check_input(source: Path) -> None:
    """Only a regular file or a folder: a device or a pipe (``/dev/zero``) never ends."""
    from lmdev.yamlio import describe_kind

    require_file(source)  # worded as for add --from and import
    try:
        mode = source.stat().st_mode
    except OSError:
        raise UsageError(f"no such file: {source}") from None  # a dangling link
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UsageError(f"--input must be a regular file or a folder; {source} is {describe_kind(mode)}")


def _classify_input(lib: Library, model: Model, source: Path, fmt: TextOrJson, workers: Optional[int], reasons: str) -> None:
    """Stream results as they come, as a JSON array or one line per paper; bad records are
    counted and named on stderr, and the run exits 1 if there were any."""
    from lmdev.classifier import bulk
    from lmdev.classifier.modelcache import model_path
    from lmdev.classifier.records import read_records

    first = True
    errors: list[str] = []

    def emit(line: str) -> None:
        nonlocal first
        sys.stdout.write((("[\n" if first else ",\n") + line) if fmt is TextOrJson.json else safe(line) + "\n")
        first = False

    def emit_block(block: bytes) -> None:
        """A worker's block: JSON goes out as the bytes it came in (it is made safe already)."""
        nonlocal first
        raw = getattr(sys.stdout, "buffer", None)
        if fmt is not TextOrJson.json:  # lines, each with its own breaks made spaces by the worker
            sys.stdout.write(safe(block.decode("utf-8"), newlines=True) + "\n")
            return
        if raw is None:
            emit(block.decode("utf-8"))
            return
        sys.stdout.flush()
        raw.write(b"[\n" if first else b",\n")
        raw.write(block)
        first = False

    jsonl = source.is_file() and source.suffix not in (".yaml", ".yml")
    total = bulk.count_lines(source) if jsonl else 0
    n_workers = workers or bulk.default_workers()
    path = model_path(lib)
    try:
        with progress(total, "classifying") as advance:
            if jsonl and total >= bulk.PARALLEL_FROM and n_workers > 1 and path.exists():
                for block, count, errs in bulk.classify_jsonl(source, model, lib.root / "taxonomy.yaml", path, fmt.value, workers=n_workers, advance=advance, reasons=reasons):
                    if count:
                        emit_block(block)
                    errors.extend(errs)
            else:
                for output, error in bulk.classify_records(model, read_records(source), fmt.value, reasons):
                    if output is not None:
                        emit(output)
                    else:
                        errors.append(error or "")
                    advance(1)
    except BaseException:
        if not first:  # the JSON array stays open: no reader can take it for a whole answer
            message("classify stopped early; the output above is incomplete")
        raise
    if fmt is TextOrJson.json:
        sys.stdout.write("[]\n" if first else "\n]\n")
    if first and not errors:  # an empty file or a folder without papers: say so, it is still no error
        message(f"classify: no records in {source}")
    for error in errors[:20]:
        note(f"skipped {error}")
    if len(errors) > 20:
        message(f"... and {len(errors) - 20} more bad records")
    if errors:
        raise typer.Exit(1)


@app.command("eval", epilog=examples("lmdev eval", "lmdev eval --folds 10 --format json"))
def eval_cmd(
    ctx: typer.Context,
    folds: Annotated[int, typer.Option("--folds", metavar="K", min=2, max=20, help="Number of cross-validation folds.")] = 5,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Evaluate the classifier: cross-validation on the tagged papers and rejections, and a
    temporal split (trained up to 2023, tested after), each beside a seed-terms-only baseline."""
    from lmdev.classifier.evaluation import evaluate, reviewed
    from lmdev.classifier.modelcache import rejected_records

    lib = library(ctx)
    papers = readable_papers(lib)
    tagged = len(reviewed(papers))
    if tagged < 2 * folds:  # a fold needs papers to test on and the rest to train on
        message(f"nothing to evaluate yet: {tagged} paper(s) tagged by a person, and {folds}-fold cross-validation needs at least {2 * folds}")
        if fmt is TextOrJson.json:
            print_json({"papers": tagged, "rejections": len(rejected_records(lib)), "folds": folds, "model": None, "baseline": None, "temporal": None})
        return
    with progress(folds + 1, "evaluating", minimum=1):
        evaluation = evaluate(lib.taxonomy, papers, rejected_records(lib), folds)
    if fmt is TextOrJson.json:
        print_json(evaluation.to_json())
    else:
        render.evaluation(evaluation, folds)
