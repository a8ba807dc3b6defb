"""arXiv's category names, so that a typo in a watched category is caught where it is written.

arXiv answers a listing request for a category it does not have with an empty feed, which reads
exactly like a weekend: a scheduled watch of ``cs.FOO`` would sit idle for good without a word.
The archives are all listed; subject classes are listed for the archives a language-model reading
group watches (cs, stat, eess, econ, math), and for the others only their form is checked.
"""

from __future__ import annotations

from typing import Optional

# Archives without subject classes, and archives whose categories are ``archive.SUBJECT``.
_PLAIN = frozenset(["gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph"])
_SUBJECTS: dict[str, Optional[frozenset[str]]] = {
    "cs": frozenset(["AI", "AR", "CC", "CE", "CG", "CL", "CR", "CV", "CY", "DB", "DC", "DL", "DM", "DS", "ET", "FL", "GL", "GR", "GT", "HC", "IR", "IT", "LG", "LO", "MA", "MM", "MS", "NA", "NE", "NI", "OH", "OS", "PF", "PL", "RO", "SC", "SD", "SE", "SI", "SY"]),
    "stat": frozenset(["AP", "CO", "ME", "ML", "OT", "TH"]),
    "eess": frozenset(["AS", "IV", "SP", "SY"]),
    "econ": frozenset(["EM", "GN", "TH"]),
    "math": frozenset(["AC", "AG", "AP", "AT", "CA", "CO", "CT", "CV", "DG", "DS", "FA", "GM", "GN", "GR", "GT", "HO", "IT", "KT", "LO", "MG", "MP", "NA", "NT", "OA", "OC", "PR", "QA", "RA", "RT", "SG", "SP", "ST"]),
    "q-bio": None,
    "q-fin": None,
    "astro-ph": None,
    "cond-mat": None,
    "physics": None,
    "nlin": None,
}


def category_problem(category: str) -> Optional[str]:
    """Why ``category`` is not one of arXiv's (with the likely intended name), or None."""
    archive, dot, subject = category.partition(".")
    if not dot:
        if category in _PLAIN:
            return None
        if category in _SUBJECTS:
            return f"{category!r} is an archive, not a category: name one of its categories, such as {_example(category)}"
        return f"not an arXiv category: {category!r} (for example cs.CL, cs.LG, stat.ML)"
    if archive not in _SUBJECTS:
        known = archive.lower() if archive.lower() in _SUBJECTS else None
        hint = f" (did you mean {known}.{subject.upper()}?)" if known else " (for example cs.CL, cs.LG, stat.ML)"
        return f"not an arXiv category: {category!r}{hint}"
    subjects = _SUBJECTS[archive]
    if subjects is None:
        return None if subject else f"not an arXiv category: {category!r}"
    if subject in subjects:
        return None
    if subject.upper() in subjects:
        return f"not an arXiv category: {category!r} (did you mean {archive}.{subject.upper()}?)"
    return f"not an arXiv category: {category!r} ({archive} has {', '.join(sorted(subjects))})"


def _example(archive: str) -> str:
    subjects = _SUBJECTS.get(archive)
    return f"{archive}.{min(subjects)}" if subjects else f"{archive}.XX"
