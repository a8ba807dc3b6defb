"""Commands over the stored library: check, taxonomy, list, show, tag."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev.cli import render, render_inbox
from lmdev.cli.base import ahead, app, examples, library, readable_index, trained_model
from lmdev.cli.completion import node_ids, problem_ids
from lmdev.cli.options import (
    AnyPaperId,
    AssumptionFilter,
    AssumptionTags,
    FormatOption,
    PaperId,
    PrimaryFilter,
    ProblemFilter,
    ProblemTags,
    StanceFilter,
    TextFilter,
    TextOrJson,
    UnreviewedFilter,
    UntaggedFilter,
    YearFilter,
)
from lmdev.cli.output import is_interactive, message, print_json, safe, write
from lmdev.errors import UsageError

if TYPE_CHECKING:
    from lmdev.check import Finding
    from lmdev.taxonomy import Taxonomy


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


class TaxonomyFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command(epilog=examples(
    "lmdev check",
    "lmdev check --changed          only what changed since the last clean check",
    "lmdev check --format github",
    "lmdev check --require-reviewed      fail while classifier suggestions await review",
    "lmdev check --min-papers-per-problem 3 --reading-lists docs/reading-lists",
    "lmdev check data/papers/2205.14135.yaml   only findings in this file (what pre-commit passes)",
))
def check(
    ctx: typer.Context,
    files: Annotated[Optional[list[Path]], typer.Argument(metavar="FILE", help="Report only findings in these files (default: every file).")] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="text, json, or github (workflow annotations).")] = CheckFormat.text,
    min_papers_per_problem: Annotated[Optional[int], typer.Option("--min-papers-per-problem", metavar="N", min=1, help="Also fail when a problem has fewer papers than this (default: from config.yaml).")] = None,
    reading_lists: Annotated[Optional[Path], typer.Option("--reading-lists", metavar="DIR", help="Also fail when the reading lists in this folder are stale.")] = None,
    require_reviewed: Annotated[Optional[bool], typer.Option("--require-reviewed/--no-require-reviewed", help="Also fail while any classifier suggestion is unreviewed (default: from config.yaml, else off).")] = None,
    changed: Annotated[bool, typer.Option("--changed", help="Read only the files changed since the last check that found nothing (for pre-commit); duplicates are still checked against every file.")] = False,
) -> None:
    """Check every paper file; exit 1 if any problem is found (the CI gate)."""
    from lmdev.check import Finding, check_library, limit_to_files, optional_rules
    from lmdev.config import Config, load_config
    from lmdev.errors import DataError

    try:
        lib = library(ctx)
    except DataError as exc:
        if fmt is CheckFormat.text or exc.path is None:
            raise
        # a taxonomy that does not load stops the check; CI still gets its annotation or JSON
        _report_check(fmt, 0, [Finding(exc.path, exc.line, exc.message)], "checked no paper file: the taxonomy does not load")
        raise typer.Exit(1) from None
    try:
        config = load_config(lib.root)
    except DataError:
        config = Config()  # check_library reports the file's problem as a finding
    if require_reviewed is None:
        require_reviewed = config.check.require_reviewed
    if min_papers_per_problem is None:
        min_papers_per_problem = config.check.min_papers_per_problem
    count, findings = check_library(lib, optional_rules(min_papers_per_problem, reading_lists, require_reviewed), changed=changed)
    if files:
        findings = limit_to_files(lib, findings, files)
    given = f"{len(set(files))} given file(s), against {count} paper files" if files else f"{count} paper file{'s' if count != 1 else ''}"
    _report_check(fmt, count, findings, f"checked {given}" + (" (changed since the last clean check)" if changed else "") + ": " + (f"{len(findings)} problem(s)" if findings else "all good"))
    if findings:
        raise typer.Exit(1)


def _report_check(fmt: CheckFormat, count: int, findings: list[Finding], summary: str) -> None:
    from lmdev.check import github_annotation

    if fmt is CheckFormat.json:
        print_json({"ok": not findings, "files": count, "findings": [f.__dict__ for f in findings]})
    elif fmt is CheckFormat.github:
        for finding in findings:
            print(github_annotation(finding))
    else:
        for finding in findings:
            print(safe(str(finding)))
    message(summary)


@app.command(epilog=examples("lmdev taxonomy", "lmdev taxonomy --format json", "lmdev taxonomy --format markdown > docs/taxonomy.md", "lmdev taxonomy --diff             what this tracker added to the essay's taxonomy"))
def taxonomy(
    ctx: typer.Context,
    fmt: Annotated[TaxonomyFormat, typer.Option("--format", "-f", help="text (a tree), json or markdown.")] = TaxonomyFormat.text,
    diff: Annotated[bool, typer.Option("--diff", help="Show how this tracker's taxonomy differs from the one lmdev ships.")] = False,
) -> None:
    """Show the essay's taxonomy: fields, assumptions, problems."""
    tax = library(ctx).taxonomy
    if diff:
        _taxonomy_diff(tax, fmt)
        return
    if fmt is TaxonomyFormat.json:
        print_json(tax.to_json())
    elif fmt is TaxonomyFormat.markdown:
        from lmdev.reports.markdown import taxonomy_page

        write(taxonomy_page(tax))
    else:
        render.taxonomy_tree(tax)


def _taxonomy_diff(tax: Taxonomy, fmt: TaxonomyFormat) -> None:
    from lmdev.taxonomy import diff_taxonomies, load_taxonomy
    from lmdev.tracker import packaged_taxonomy_path

    changes = diff_taxonomies(load_taxonomy(packaged_taxonomy_path()), tax)
    if fmt is TaxonomyFormat.json:
        print_json([c.to_json() for c in changes])
    elif fmt is TaxonomyFormat.markdown:
        raise UsageError("--diff prints text or json")
    else:
        marks = {"added": "+", "removed": "-", "changed": "~"}
        for c in changes:
            print(safe(f"{marks[c.change]} {c.kind:<12} {c.id}" + (f"  ({', '.join(c.attributes)})" if c.attributes else "")))
    message(f"{len(changes)} difference(s) from the packaged taxonomy" if changes else "same as the packaged taxonomy")


@app.command("list", epilog=examples("lmdev list --problem efficiency", "lmdev list --primary safety --year 2025-     papers that attack safety above all", "lmdev list --assumption out-of-the-box --stance challenges", "lmdev list --year 2023 --text agents --format json", "lmdev list --untagged", "lmdev list --unreviewed             papers with classifier suggestions to review", "lmdev list | cut -f1,3           (piped: one tab-separated line per paper)"))
def list_papers(
    ctx: typer.Context,
    problem: ProblemFilter = [],  # noqa: B006 - Typer copies defaults
    primary: PrimaryFilter = None,
    assumption: AssumptionFilter = [],  # noqa: B006
    stance: StanceFilter = None,
    year: YearFilter = None,
    text: TextFilter = None,
    untagged: UntaggedFilter = False,
    unreviewed: UnreviewedFilter = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """List papers, newest first, filtered by tag, stance, year or text."""
    from lmdev.filters import NEWEST_FIRST, Selection

    ahead("lmdev.index", "lmdev.reports.export" if fmt is TextOrJson.json else "lmdev.termtext")
    lib = library(ctx)
    index = readable_index(lib)
    where, params = Selection.parse(problem, assumption, stance.value if stance else None, year, text, untagged, unreviewed, primary).validate(lib.taxonomy).sql()
    if fmt is TextOrJson.json:
        from lmdev.reports.export import indexed_json, json_chunks

        sys.stdout.writelines(json_chunks(indexed_json(index, where, params, NEWEST_FIRST)))
        return
    if sys.stdout.isatty():
        count = render.paper_table(index.summaries(where, params, NEWEST_FIRST))
    else:
        count = render.write_paper_lines(index.summary_lines(where, params, NEWEST_FIRST), sys.stdout)
    message(f"{count} paper(s)" if count else "no papers match")


@app.command(epilog=examples(
    "lmdev show 2205.14135",
    "lmdev show https://arxiv.org/abs/2205.14135v2 --format json",
    "lmdev show 2605.08427      a paper in the inbox: suggested tags and why; a rejected one: the reason",
))
def show(ctx: typer.Context, paper_id: AnyPaperId, fmt: FormatOption = TextOrJson.text) -> None:
    """Show one paper: metadata, tags with their stances, notes. A paper waiting in the inbox
    shows the classifier's suggestions; a rejected one, the reason on record."""
    from lmdev.decisions import Rejection
    from lmdev.inbox import InboxItem
    from lmdev.triage import lookup

    lib = library(ctx)
    found = lookup(lib, paper_id)
    if fmt is TextOrJson.json:
        from lmdev.ids import abs_url
        from lmdev.reports.export import paper_json

        if isinstance(found, InboxItem):
            print_json({"status": "inbox", **found.to_data(), "link": abs_url(found.id)})
        elif isinstance(found, Rejection):
            print_json({"status": "rejected", **{k: v for k, v in vars(found).items() if v is not None}, "link": abs_url(found.id)})
        else:
            print_json(paper_json(found))
    elif isinstance(found, InboxItem):
        render_inbox.waiting_detail(found, lib.taxonomy)
    elif isinstance(found, Rejection):
        render_inbox.rejection_detail(found)
    else:
        render.paper_detail(found, lib.taxonomy)


@app.command(epilog=examples(
    "lmdev tag 2205.14135 --problem efficiency --assumption fixed-recipe:relies",
    "lmdev tag 2205.14135 --remove cost-irrelevant",
    "lmdev tag 2205.05638 --primary efficiency",
    "lmdev tag 2205.14135 --note 'IO-aware exact attention'",
    "lmdev tag 2205.14135 --confirm     the classifier's suggestions become the person's tags",
    "lmdev tag liu2022shot --problem efficiency      (a citekey works wherever an id does)",
    "lmdev tag 2205.14135              (on a terminal: review the classifier's suggestions)",
))
def tag(
    ctx: typer.Context,
    paper_id: PaperId,
    problem: ProblemTags = [],  # noqa: B006
    assumption: AssumptionTags = [],  # noqa: B006
    remove: Annotated[list[str], typer.Option("--remove", "-r", metavar="ID", autocompletion=node_ids, help="Problem or assumption id to remove (repeatable).")] = [],  # noqa: B006
    note: Annotated[Optional[str], typer.Option("--note", metavar="TEXT", help="Set the paper's notes.")] = None,
    primary: Annotated[Optional[str], typer.Option("--primary", metavar="ID", autocompletion=problem_ids, help="The problem the paper attacks most (tagged if it was not).")] = None,
    accept_suggestions: Annotated[bool, typer.Option("--accept-suggestions", help="Apply the classifier's suggested tags without prompting (as suggestions, by: classifier).")] = False,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm the paper's classifier suggestions: they become the person's tags.")] = False,
) -> None:
    """Tag a paper by hand; with no tag options on a terminal, review the classifier's suggestions."""
    from lmdev.tagging import TagChange, tag_paper

    lib = library(ctx)
    change = TagChange(problems=problem, assumptions=assumption, remove=remove, note=note, primary=primary, confirm=confirm)
    if not (change or accept_suggestions):
        if not is_interactive():
            raise UsageError("give --problem, --assumption, --primary, --remove, --note, --confirm or --accept-suggestions (prompts only run on a terminal)")
        from lmdev.cli.review import review_new

        review_new(lib, [lib.get(paper_id)])
        return
    hook = None
    if accept_suggestions:
        from lmdev.classifier.apply import suggestion_hook

        hook = suggestion_hook(lib, lambda: trained_model(lib))
    result = tag_paper(lib, paper_id, change, before_save=hook)
    for node_id in result.not_present:
        message(f"{result.paper.id} had no tag {node_id!r}")
    if result.replaced_note is not None:
        lines = result.replaced_note.count("\n") + 1
        what = "replaced" if change.note else "removed"
        message(f"{result.paper.id}: --note {what} the earlier note ({len(result.replaced_note)} characters, {lines} line{'s' if lines != 1 else ''}); git diff shows it")
    message(f"{result.paper.id}: {render.tags_text(result.paper) or 'no tags'}" + ("" if result.changed else " (unchanged)"))
    if result.changed and change.remove and not result.paper.assumptions:
        message(f"{result.paper.id} now maps to no assumption, which check refuses: give it one with lmdev tag {result.paper.id} --assumption ID:STANCE")
