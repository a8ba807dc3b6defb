"""Optional checks that ``lmdev check`` adds on request (coverage floor, stale reading lists)."""

from __future__ import annotations

from typing import Optional

from lmdev.check import Extra


def extra_checks(min_papers_per_problem: Optional[int], reading_lists: Optional[str]) -> tuple[Extra, ...]:
    extras: list[Extra] = []
    if min_papers_per_problem is not None:
        from lmdev.reports.coverage import coverage_floor_check

        extras.append(coverage_floor_check(min_papers_per_problem))
    if reading_lists is not None:
        from lmdev.reports.readinglist import stale_lists_check

        extras.append(stale_lists_check(reading_lists))
    return tuple(extras)
