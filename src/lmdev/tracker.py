"""Starting a tracker of one's own: ``lmdev init`` and the taxonomy that ships inside the package.

A new tracker gets a copy of the packaged taxonomy (the essay's), an empty ``papers/``, a
commented config file, the git settings lmdev relies on and, on request, a CI workflow and a
pre-commit hook that run ``lmdev check``. Nothing that exists is ever overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Optional

from lmdev import __version__, yamlio
from lmdev.config import CONFIG_FILE
from lmdev.decisions import REJECTED_FILE
from lmdev.errors import DataError, UsageError
from lmdev.paths import PAPERS_DIR, TAXONOMY_FILE

PLACEHOLDER_SPEC = "lmdev @ git+https://github.com/YOUR-ORG/lmdev"
HOOK_FILES = r"^data/(taxonomy\.yaml|config\.yaml|rejected\.yaml|(papers|inbox)/.*\.ya?ml)$"

CONFIG_TEMPLATE = """\
# This tracker's defaults for lmdev. Every key is optional: delete what you do not need. The
# lines below are examples, commented out; each comment ends with the default a key has while
# it stays commented out. `lmdev check` validates this file.
# Reference: docs/config.md in lmdev's sources lists every key with its default.
#
# check:
#   require_reviewed: true        # fail while a classifier suggestion is unreviewed (default: false)
#   min_papers_per_problem: 3     # fail while a problem has fewer papers than this (default: none)
# coverage:
#   min_papers: 3                 # coverage and report call out problems with fewer papers (default: 3)
#   recent_years: 2               # ... and nodes with nothing in this many recent years (default: 2)
# watch:
#   categories: [cs.CL, cs.LG, cs.AI]   # arXiv categories that lmdev watch reads (default: these three)
#   min_relevance: 0.05           # papers less relevant than this stay out of the inbox (default: 0, all in)
"""

GITIGNORE_LINES = ("__pycache__/", ".venv/", ".lmdev.lock", ".*.tmp", "site/")
GITATTRIBUTES_LINES = (f"data/{REJECTED_FILE} merge=union",)

WORKFLOW_TEMPLATE = """\
# Written by `lmdev init --ci github`: checks the tracker's data on every push and pull request.
name: lmdev check
on:
  push:
  pull_request:
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: python -m pip install {spec}
      - run: lmdev check --format github
"""

PRE_COMMIT_TEMPLATE = """\
# Written by `lmdev init --pre-commit`: `pre-commit install` runs lmdev check on the data files
# being committed (lmdev must be installed where you commit, e.g. in an activated venv).
repos:
  - repo: local
    hooks:
      - id: lmdev-check
        name: lmdev check
        entry: lmdev check
        language: system
        files: {files}
"""


def packaged_taxonomy_text() -> str:
    """The essay's taxonomy as it ships inside the package."""
    return (resources.files("lmdev") / "data" / TAXONOMY_FILE).read_text(encoding="utf-8")


def packaged_taxonomy_path() -> Path:
    """A path to the packaged taxonomy (the package is installed as files, never zipped)."""
    return Path(str(resources.files("lmdev") / "data" / TAXONOMY_FILE))


def install_spec() -> Optional[str]:
    """A pip requirement that installs this very lmdev elsewhere (in CI), or None when unknown.

    pip records where a package came from (PEP 610); a git URL with its commit or a release
    archive can be installed again, a folder on this machine cannot.
    """
    try:
        raw = metadata.distribution("lmdev").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if raw is None:
        return f"lmdev=={__version__}"
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    url = info.get("url", "")
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith("https://"):
        commit = vcs.get("commit_id")
        return f"lmdev @ git+{url}" + (f"@{commit}" if commit else "")
    if "archive_info" in info and url.startswith("https://"):
        return f"lmdev @ {url}"
    return None


@dataclass
class Created:
    """What ``init`` wrote, and anything the user should still do by hand."""

    root: Path
    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def _plan(root: Path, ci: Optional[str], pre_commit: bool, spec: Optional[str]) -> tuple[dict[Path, str], list[str]]:
    data = root / "data"
    files = {
        data / TAXONOMY_FILE: packaged_taxonomy_text(),
        data / CONFIG_FILE: CONFIG_TEMPLATE,
        data / PAPERS_DIR / ".gitkeep": "",
    }
    todo: list[str] = []
    if ci == "github":
        chosen = spec or install_spec()
        if chosen is None:
            chosen = PLACEHOLDER_SPEC
            todo.append(f"edit .github/workflows/lmdev.yml: replace YOUR-ORG in {PLACEHOLDER_SPEC!r} with where your lmdev lives (or pass --install-from)")
        files[root / ".github" / "workflows" / "lmdev.yml"] = WORKFLOW_TEMPLATE.format(spec=json.dumps(chosen))
    elif ci is not None:
        raise UsageError(f"--ci knows 'github', not {ci!r}")
    if pre_commit:
        files[root / ".pre-commit-config.yaml"] = PRE_COMMIT_TEMPLATE.format(files=json.dumps(HOOK_FILES))
    return files, todo


def init_tracker(root: Path, *, ci: Optional[str] = None, pre_commit: bool = False, spec: Optional[str] = None) -> Created:
    """Create a tracker in ``root`` (made if missing). Refuses, writing nothing, if any file it
    would write exists; ``.gitignore`` and ``.gitattributes`` only gain the lines they lack."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    files, todo = _plan(root, ci, pre_commit, spec)
    clashes = [p for p in files if p.exists() or p.is_symlink()]
    papers = root / "data" / PAPERS_DIR
    if papers.is_dir() and any(p.name != ".gitkeep" for p in papers.iterdir()):
        clashes.append(papers)
    if clashes:
        names = ", ".join(str(p) for p in clashes)
        raise UsageError(f"refusing to overwrite: {names} already exist(s); lmdev init only starts new trackers")
    for name, lines in ((".gitignore", GITIGNORE_LINES), (".gitattributes", GITATTRIBUTES_LINES)):
        path = root / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise DataError("not a regular file; nothing written (add these lines to it by hand: " + "; ".join(lines) + ")", path=str(path))
    created = Created(root, todo=todo)
    for path, text in files.items():
        yamlio.atomic_write(path, text)
        created.written.append(path)
    for name, lines in ((".gitignore", GITIGNORE_LINES), (".gitattributes", GITATTRIBUTES_LINES)):
        path = root / name
        action = _add_lines(path, lines)
        if action == "written":
            created.written.append(path)
        elif action == "updated":
            created.updated.append(path)
    return created


def _add_lines(path: Path, lines: tuple[str, ...]) -> str:
    """Append the lines a file lacks; 'written' for a new file, 'updated', or '' when complete."""
    existing = yamlio.read_text(path) if path.exists() else None
    have = set((existing or "").splitlines())
    missing = [line for line in lines if line not in have]
    if not missing:
        return ""
    text = existing or ""
    if text and not text.endswith("\n"):
        text += "\n"
    yamlio.atomic_write(path, text + "".join(line + "\n" for line in missing))
    return "written" if existing is None else "updated"
