"""A tracker's own defaults: ``<data dir>/config.yaml``, every key optional.

Kept small on purpose: settings a group wants to share in its repository (which arXiv
categories to watch, for instance), not per-user preferences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from lmdev import yamlio
from lmdev.errors import DataError

CONFIG_FILE = "config.yaml"
DEFAULT_CATEGORIES = ["cs.CL", "cs.LG", "cs.AI"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _categories(value: list[str]) -> list[str]:
    from lmdev.arxiv.categories import category_problem

    for category in value:
        problem = category_problem(category)
        if problem:
            raise ValueError(problem)
    return value


def _number(value: object) -> object:
    """A number as YAML writes one (``0.1``, ``0``), never a string or a boolean read as one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number, such as 0.1")
    return float(value)


class WatchConfig(_Strict):
    """Defaults for ``lmdev watch``: a category arXiv does not have is refused here, by ``lmdev
    check``, rather than left to look like a weekend's empty listing every day."""

    categories: Annotated[list[str], AfterValidator(_categories)] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1)
    # papers below this relevance stay out of the inbox (0: every paper goes in)
    min_relevance: Annotated[float, BeforeValidator(_number)] = Field(default=0.0, ge=0.0, le=1.0)


class CheckConfig(_Strict):
    """Defaults for ``lmdev check`` (its flags override them)."""

    require_reviewed: StrictBool = False
    min_papers_per_problem: Optional[StrictInt] = Field(default=None, ge=1)


class CoverageConfig(_Strict):
    """Defaults for ``lmdev coverage`` and ``lmdev report`` (their flags override them)."""

    min_papers: StrictInt = Field(default=3, ge=0)
    recent_years: StrictInt = Field(default=2, ge=1)


class Config(_Strict):
    watch: WatchConfig = Field(default_factory=WatchConfig)
    check: CheckConfig = Field(default_factory=CheckConfig)
    coverage: CoverageConfig = Field(default_factory=CoverageConfig)


def load_config(data_dir: Path) -> Config:
    """The tracker's config, or the defaults when it has none; a bad file names its line."""
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return Config()
    text = yamlio.read_text(path)
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return Config()  # a config of comments only (as `lmdev init` writes it) means the defaults
    data, node = yamlio.parse(text, path=str(path))
    spelled = [(n.start_mark.line + 1, f"YAML reads {n.value!r} as {str(n.value.lower() in ('yes', 'on')).lower()}: write true or false for a setting, or quote it for text") for n in _booleans_spelled_out(node)]
    also = [f"line {n}: {text}" for n, text in spelled]  # each after the first error, at its own line
    try:
        config = Config.model_validate(data or {})
    except ValidationError as exc:
        from lmdev.validation import data_error

        error = data_error(exc, path=str(path), node=node, data=data, what="config")
        raise DataError("; ".join([error.message, *also]), path=error.path, line=error.line) from None
    if spelled:
        raise DataError("; ".join([spelled[0][1], *also[1:]]), path=str(path), line=spelled[0][0])
    return config


def _booleans_spelled_out(node: Any) -> list[yaml.ScalarNode]:
    """YAML 1.1 reads 'yes', 'no', 'on' and 'off' as booleans; a setting written so was most
    likely meant otherwise (Norway's 'NO'), so only true and false are taken."""
    if isinstance(node, yaml.MappingNode):
        return [n for _key, value in node.value for n in _booleans_spelled_out(value)]
    if isinstance(node, yaml.SequenceNode):
        return [n for value in node.value for n in _booleans_spelled_out(value)]
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
        return [node]
    return []
