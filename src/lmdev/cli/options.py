"""Options that several commands share, defined once as ``Annotated`` types."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from lmdev.cli.completion import assumption_ids, assumption_specs, known_ids, paper_ids, problem_ids


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


class StanceChoice(str, Enum):
    relies = "relies"
    supports = "supports"
    challenges = "challenges"


FormatOption = Annotated[TextOrJson, typer.Option("--format", "-f", help="text, or json for scripts (on stdout).")]

# The filters of `list`, shared with `export`.
ProblemFilter = Annotated[list[str], typer.Option("--problem", "-p", metavar="ID", autocompletion=problem_ids, help="Only papers tagged with this problem (repeatable).")]
PrimaryFilter = Annotated[Optional[str], typer.Option("--primary", metavar="ID", autocompletion=problem_ids, help="Only papers whose primary problem (the one they attack most) is this.")]
AssumptionFilter = Annotated[list[str], typer.Option("--assumption", "-a", metavar="ID", autocompletion=assumption_ids, help="Only papers tagged with this assumption (repeatable).")]
StanceFilter = Annotated[Optional[StanceChoice], typer.Option("--stance", help="With --assumption: only this stance.")]
YearFilter = Annotated[Optional[str], typer.Option("--year", metavar="YEARS", help="YEAR, FROM-TO, FROM- or -TO.")]
TextFilter = Annotated[Optional[str], typer.Option("--text", metavar="WORDS", help="Words that must all appear in id, title, abstract, authors or notes, each at the start of a word ('RL' finds RL and RLHF, not 'world').")]
UntaggedFilter = Annotated[bool, typer.Option("--untagged", help="Only papers with no tags at all.")]
UnreviewedFilter = Annotated[bool, typer.Option("--unreviewed", help="Only papers with classifier suggestions no person has confirmed.")]

# Tag flags, shared by `tag` and `add`.
ProblemTags = Annotated[list[str], typer.Option("--problem", "-p", metavar="ID", autocompletion=problem_ids, help="Problem id to tag with (repeatable).")]
AssumptionTags = Annotated[list[str], typer.Option("--assumption", "-a", metavar="ID:STANCE", autocompletion=assumption_specs, help="ID:STANCE, stance one of relies, supports, challenges (repeatable).")]

# Papers named on the command line (ids, URLs, slugs or citekeys).
PaperId = Annotated[str, typer.Argument(metavar="ID", autocompletion=paper_ids, help="arXiv id, arXiv URL, slug or citekey.")]
AnyPaperId = Annotated[str, typer.Argument(metavar="ID", autocompletion=known_ids, help="arXiv id, arXiv URL, slug or citekey: of a stored paper, one waiting in the inbox or a rejected one.")]
PaperIds = Annotated[list[str], typer.Argument(metavar="ID", autocompletion=paper_ids, help="Paper ids, URLs, slugs or citekeys.")]
OptionalPaperIds = Annotated[Optional[list[str]], typer.Argument(metavar="ID", autocompletion=paper_ids, help="Only these papers (ids, URLs, slugs or citekeys).")]

# arXiv access.
NoCache = Annotated[bool, typer.Option("--no-cache", help="Ask arXiv even if a cached answer from today exists.")]
Offline = Annotated[bool, typer.Option("--offline", help="Never ask arXiv; use cached answers only.")]
OFFLINE_HINT = "use --offline to work from the cache, or try later"  # when arXiv is unreachable

MinPapers = Annotated[Optional[int], typer.Option("--min-papers", metavar="N", min=0, show_default=False, help="Call out problems with fewer papers than this (default: coverage.min_papers of config.yaml, else 3).")]
RecentYears = Annotated[Optional[int], typer.Option("--recent-years", metavar="N", min=1, show_default=False, help="Call out nodes with no paper in this many years, counted back from the newest paper (default: coverage.recent_years of config.yaml, else 2).")]
