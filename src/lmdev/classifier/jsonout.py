"""A classification written as JSON text directly: the bulk path of ``classify --format json``.

The text is what ``to_json(model.classify(doc, reasons=...).to_json())`` gives (``json.dumps``
with ``ensure_ascii=False``, made safe to print), built without the objects: in bulk runs, making
and serialising twenty tag objects per paper cost more than classifying it. The text around each
score is made once per model; only the id and the reasons come from the paper, and they are
quoted and made safe one by one, so the whole needs no pass of its own.
"""

from __future__ import annotations

from itertools import repeat
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Optional

from lmdev.classifier.reasons import Explainer
from lmdev.doctext import json_safe

if TYPE_CHECKING:
    from lmdev.classifier.model import Doc, Model

# Per tag, the JSON text before its score (a problem) or its stance (an assumption); for an
# assumption, its stance model's slots (None for a problem); and each slot's stance.
Parts = tuple[list[str], list[Optional[list[int]]], dict[int, str]]

_FLAG = ("false", "true")


def classify_json(model: Model, doc: Doc, *, reasons: str = "suggested") -> str:
    s = model.scores(doc)
    chosen = model.decide(s)
    everything = reasons == "all"
    explainer = Explainer(model, doc, s, neighbours=everything) if reasons != "none" else None
    top = model.top(s)
    heads, stance_slots, slot_names = parts(model)
    stance_scores = s.stance_scores
    probs = s.probs
    shown = list(map(repr, map(round, probs, repeat(3, len(probs)))))
    # sorted as tuples: the predicted primary first, then by score, ties in taxonomy order
    problems: list[tuple[bool, float, int, str]] = []
    assumptions: list[tuple[float, int, str]] = []
    for index, flag in enumerate(chosen):
        why = explainer.reasons(index) if explainer is not None and (flag or everything) else None
        slots = stance_slots[index]
        if slots is None:  # a problem
            text = json_list(why) if why else "[]"
            problems.append((index != top, -probs[index], index, f'{heads[index]}{shown[index]}, "suggested": {_FLAG[flag]}, "reasons": {text}}}'))
            continue
        if not slots:
            stance = "relies"
        elif why:
            stance, share = model.stance(model.node_ids[index], stance_scores)
            if share:
                why.append(f"stance {stance}: {share:.0%} of the stance model's weight")
        else:
            stance = slot_names[max(slots, key=stance_scores.__getitem__)]
        text = json_list(why) if why else "[]"
        assumptions.append((-probs[index], index, f'{heads[index]}{stance}", "score": {shown[index]}, "suggested": {_FLAG[flag]}, "reasons": {text}}}'))
    problems.sort()
    assumptions.sort()
    primary = f'"{model.node_ids[top]}"' if top is not None else "null"
    return (
        f'{{"id": {json_safe(encode_basestring(doc.id))}, "relevance": {round(s.relevance, 3)!r}, "primary": {primary}, '
        f'"problems": [{", ".join([t[3] for t in problems])}], "assumptions": [{", ".join([t[2] for t in assumptions])}]}}'
    )


def parts(model: Model) -> Parts:
    """The model's :data:`Parts`, made on first use. Node ids are slugs (the taxonomy's
    pattern), safe to write as they are."""
    made: Optional[Parts] = model._json
    if made is None:
        heads: list[str] = []
        slots: list[Optional[list[int]]] = []
        for node_id, kind in zip(model.node_ids, model.kinds):
            if kind == "problem":
                heads.append(f'{{"id": "{node_id}", "score": ')
                slots.append(None)
            else:
                heads.append(f'{{"id": "{node_id}", "stance": "')
                slots.append([slot for _, slot in model.stance_slots.get(node_id, ())])
        names = {slot: stance for pairs in model.stance_slots.values() for stance, slot in pairs}
        made = model._json = heads, slots, names
    return made


def json_list(texts: list[str]) -> str:
    """A JSON array of strings, as ``json.dumps(..., ensure_ascii=False)`` writes it, made safe to print."""
    return json_safe("[" + ", ".join(map(encode_basestring, texts)) + "]")
