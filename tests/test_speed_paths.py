"""The fast paths give what the straightforward ones give: scores, JSON, tokens, the built model
in the cache, and the one-command registration of the CLI."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from helpers import SHIPPED
from lmdev.classifier import scoring
from lmdev.classifier.fitting import sigmoid
from lmdev.classifier.model import Doc, Model, unscoped
from lmdev.classifier.modelcache import BUILT_SUFFIX, load_built, load_model, model_path, rejected_records
from lmdev.classifier.prior import AVERAGE_LENGTH, K1, B
from lmdev.classifier.reasons import Explainer
from lmdev.doctext import to_json
from lmdev.store import Library
from lmdev.text import document_tokens, fold, stemmed, stems, strip_boilerplate, tokens
from lmdev.text import stem as stem_of


@pytest.fixture(scope="module")
def shipped(shipped_models: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, list[Doc]]:
    """The shipped model and every shipped paper and rejection as a document."""
    cache = tmp_path_factory.mktemp("speed-cache")
    shutil.copytree(shipped_models, cache / "models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMDEV_CACHE_DIR", str(cache))
        lib = Library(SHIPPED)
        model = load_model(lib)
        rows = [(p.id, p.title, p.abstract) for p in lib.papers()] + rejected_records(lib)
    return model, [Doc.of(*row) for row in rows]


def _plain_scores(model: Model, doc: Doc) -> tuple[list[float], float, list[float], list[float]]:
    """The scores computed the straightforward way: every TF-IDF weight times every slot weight,
    the prior from its per-phrase tallies."""
    counts = Counter(doc.words)
    raw = {w: model.idf[w] * (1.0 + math.log(c)) for w, c in counts.items() if w in model.idf}
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    totals = list(model.base)
    for f, v in raw.items():
        for slot, r in model.by_feature.get(f, ()):
            totals[slot] += v * r / norm

    def prior(words: list[str]) -> list[float]:
        length = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
        return [sum(table[p] * c * (K1 + 1) / (c + length) for p, c in found.items()) for table, found in zip(model.prior.phrases, model.prior.counts(words))]

    seeds = prior(doc.words)
    probs = [sigmoid(a * s + b * p + c) for (a, b, c), s, p in zip(model.calibration, totals, seeds)]
    u, v, w, t, q = model.primary_weights
    heading = prior(model.prior.head(doc.title))
    rank = [u * a * s + v * b * p + w * c + t * h for (a, b, c), s, p, h in zip(model.lead, totals, seeds, heading)]
    words = model.data["primary_words"]  # the primary's word model, straight from its weights
    logits = list(words["bias"])
    for f, v in raw.items():
        for k, r in enumerate(words["weights"].get(f, ())):
            logits[k] += v * r / norm
    top = max(logits)
    log_total = top + math.log(sum(math.exp(z - top) for z in logits))
    for i, z in zip(model.problem_index, logits):
        rank[i] += q * (z - log_total)
    best = max((seeds[i] for i in model.problem_index), default=0.0)
    w_scope, w_problem, w_learned, w_against, w_none, intercept = model.relevance_calibration
    scope, against = seeds[model.prior.scope_index], seeds[model.prior.against_index]
    relevance = sigmoid(w_scope * scope + w_problem * best + w_learned * totals[model.relevance_slot] - w_against * against - w_none * unscoped(scope) + intercept)
    return probs, relevance, totals, rank


def test_fast_scores_equal_the_straightforward_ones_on_the_shipped_papers(shipped: tuple[Model, list[Doc]]) -> None:
    model, docs = shipped
    for doc in docs[::9]:  # the plain path is slow: every ninth of the 1,367 papers and rejections, every kind of paper
        fast = model.scores(doc)
        probs, relevance, totals, rank = _plain_scores(model, doc)
        assert fast.probs == pytest.approx(probs, abs=1e-9), doc.id
        assert fast.relevance == pytest.approx(relevance, abs=1e-9), doc.id
        assert fast.stance_scores == pytest.approx(totals, abs=1e-9), doc.id
        assert fast.rank == pytest.approx(rank, abs=1e-9), doc.id


@pytest.mark.parametrize("reasons", ["suggested", "all", "none"])
def test_json_built_directly_is_the_result_serialised(shipped: tuple[Model, list[Doc]], reasons: str) -> None:
    model, docs = shipped
    hostile = Doc.of("2501.0\u202e0001\u2028", "Attention \x85 is all \u2066you need", "A transformer \u202a with quantized KV cache.\x7f Code is available at https://x.y.")
    for doc in [*docs[::7], hostile]:
        assert model.classify_json(doc, reasons=reasons) == to_json(model.classify(doc, reasons=reasons).to_json())


def test_the_seed_terms_behind_a_reason_are_those_found_afresh(shipped: tuple[Model, list[Doc]]) -> None:
    """The longer phrases and covered words scoring keeps for the reasons are what the prior
    finds when it looks again."""
    model, docs = shipped
    for doc in docs[::5]:
        s = model.scores(doc)
        afresh: dict[tuple[tuple[str, ...], int], int] = {}
        assert model.prior.resolve(doc.words, afresh) == s.covered
        assert afresh == s.phrases
        found = model.prior.counts(doc.words)
        assert {(p, i): n for i, row in enumerate(found) for p, n in row.items() if len(p) > 1} == s.phrases


def test_the_one_pass_prior_is_the_priors_own(shipped: tuple[Model, list[Doc]]) -> None:
    """Scoring finds the prior's terms from the model's lexicon: the same scores as the prior."""
    model, docs = shipped
    for doc in docs:
        prior = scoring.tally(model, doc.words, Counter(doc.words), {})[3]
        assert prior == pytest.approx(model.prior.scores(doc.words), abs=1e-9), doc.id
        assert scoring.heading_prior(model, model.prior.head(doc.title)) == pytest.approx(model.prior.scores(model.prior.head(doc.title)), abs=1e-9), doc.id


def test_the_seed_terms_named_in_reasons_are_the_strong_ones_the_prior_finds(shipped: tuple[Model, list[Doc]]) -> None:
    model, docs = shipped
    for doc in docs[::3]:
        s = model.scores(doc)
        explainer = Explainer(model, doc, s, neighbours=False)
        for index in range(len(model.node_ids)):
            found = {p: n if len(p) == 1 else 1 for p, n in model.prior.counts(doc.words)[index].items()}
            table = model.prior.phrases[index]
            expected = sorted((p for p in found if table[p] > 0.3), key=lambda p: (-found[p], p))
            assert [p for _, p in sorted(explainer.seeds(index))] == expected, (doc.id, index)


def test_a_term_is_named_by_the_first_word_of_the_paper_that_has_its_stem(shipped: tuple[Model, list[Doc]]) -> None:
    """A reason names a term by the first word with its stem in the title, else in the abstract
    the classifier read (release sentences dropped), found by where the stem first occurs among
    the document's tokens: what reading the words one by one finds, on the shipped papers."""
    model, docs = shipped
    named = 0
    for doc in docs[::2]:
        explainer = Explainer(model, doc, model.scores(doc), neighbours=False)
        first: dict[str, str] = {}
        for word in tokens(doc.title) + tokens(strip_boilerplate(doc.abstract)):
            first.setdefault(stem_of(word), word)
        for stem in set(doc.words):
            assert explainer.word(stem) == first[stem], (doc.id, stem)
            named += 1
    assert named > 10_000
    accented = Doc.of("x", "Ré-ranking for LLMs", "Naïve RE-RANKERS fail; using ŁLMs, re-rankers help. Code is available at https://x.y/rankers.")
    explainer = Explainer(model, accented, model.scores(accented), neighbours=False)
    assert [explainer.word(stem_of(w)) for w in ("ranking", "rankers", "naive", "llms", "use")] == ["ranking", "rankers", "naive", "llms", "using"]


def test_tokens_of_ascii_text_are_those_of_the_general_path() -> None:
    texts = ["LLMs' in-context learning (ICL): 4-bit KV-cache quantisation, 2x faster!", "Ré-ranking naïve models", "A\tB\x1cC\x0bD", "", "  ", "x" * 50]
    for text in texts:
        head = stems(fold(text).translate(str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})).split())
        assert document_tokens(text, "") == head + head


def test_abstracts_are_read_as_the_plain_path_reads_them_with_or_without_release_hints(shipped: tuple[Model, list[Doc]]) -> None:
    """The words of an abstract tell whether it can hold a release hint; those that can are
    stripped as before, and the stems are those of the stripped text."""
    _, docs = shipped
    abstracts = [
        "We prune heads. Code is available at github.com/x/y.",
        "We prune heads. Our open-source toolkit is released. It is fast.",
        "We prune heads. The open\nsource release follows. Done.",
        "Open models. Sources of error. Nothing is released here, the sources open.",
        "See www.example.org for the weights. We release nothing else.",
        "An unavailable oracle; inaccessible states; prereleased drafts. Publicly, no.",
        "No hint here at all. Just heads and tails.",
        "",
    ]
    rng = random.Random(3)
    sentences = [s for d in docs[:200] for s in d.title.split(":")] + ["Code is publicly available.", "Weights are released on HuggingFace."]
    abstracts += [" ".join(rng.choice(sentences) for _ in range(6)) for _ in range(200)]
    for abstract in abstracts:
        assert document_tokens("A title", abstract)[4:] == stemmed(strip_boilerplate(abstract)), abstract


def test_release_sentences_are_found_with_or_without_the_fast_split() -> None:
    sentences = re.compile(r"(?<=[.!?])\s+")
    abstract = "We prune heads.  Code is available at github.com/x.\nData are released. Results hold!? Yes. "
    kept = strip_boilerplate(abstract)
    assert "github" not in kept and "released" not in kept and "Results hold!?" in kept
    assert strip_boilerplate("No hint here. None at all.") == "No hint here. None at all."
    assert len(sentences.split(abstract)) == 6


def test_the_built_model_in_the_cache_classifies_as_the_json_model(data_dir: Path) -> None:
    lib = Library(data_dir)
    path = model_path(lib)
    built_path = path.with_suffix(BUILT_SUFFIX)
    load_model(lib)  # writes the built model beside the JSON if it was not there
    built = load_built(lib.taxonomy, built_path)
    assert built is not None
    plain = Model(lib.taxonomy, json.loads(path.read_text(encoding="utf-8")))
    for paper in lib.papers()[:40]:
        doc = Doc.of(paper.id, paper.title, paper.abstract)
        assert built.classify_json(doc, reasons="all") == plain.classify_json(doc, reasons="all")


@pytest.mark.parametrize("damage", [b"", b"not marshal", b"\x00" * 64])
def test_a_damaged_built_model_is_ignored(data_dir: Path, damage: bytes) -> None:
    lib = Library(data_dir)
    built_path = model_path(lib).with_suffix(BUILT_SUFFIX)
    built_path.write_bytes(damage)
    assert load_built(lib.taxonomy, built_path) is None
    assert load_model(lib).node_ids  # falls back to the JSON, and writes the built model again
    assert load_built(lib.taxonomy, built_path) is not None


def test_a_model_built_by_other_code_is_rebuilt(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.classifier.modelcache as modelcache

    lib = Library(data_dir)
    built_path = model_path(lib).with_suffix(BUILT_SUFFIX)
    model = load_model(lib)
    with monkeypatch.context() as patch:
        patch.setattr(modelcache, "_code_digest", lambda: "other code")
        modelcache.save_built(model, built_path)
    assert load_built(lib.taxonomy, built_path) is None
    assert load_model(lib).node_ids == model.node_ids
    assert load_built(lib.taxonomy, built_path) is not None


def test_every_command_is_registered_by_the_module_the_fast_start_names() -> None:
    import typer.main

    from lmdev.cli import app as app_module

    root: Any = typer.main.get_command(app_module.app)
    found = {name: command.callback.__module__.rsplit(".", 1)[1] for name, command in root.commands.items()}
    assert found == app_module.COMMAND_MODULES
    assert set(found.values()) <= set(app_module.ALL_MODULES)


def test_the_command_is_found_past_the_global_options() -> None:
    from lmdev.cli.launch import command_name

    assert command_name(["--data-dir", "classify", "-v", "list", "x"]) == "list"
    assert command_name(["--data-dir=d", "--debug", "classify"]) == "classify"
    assert command_name(["--help"]) is None


def test_parallel_text_output_has_one_line_per_paper_as_the_serial_one(cli, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.classifier.bulk

    papers = Library(SHIPPED).papers()[:30]
    rows = [{"arxiv_id": p.id, "title": p.title, "abstract": p.abstract} for p in papers]
    rows.append({"arxiv_id": "2503.0\n0001\u2028x\x1b", "title": "A hostile id", "abstract": "Language model pretraining."})
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    serial = cli("--data-dir", str(data_dir), "classify", "--input", str(source))
    monkeypatch.setattr(lmdev.classifier.bulk, "PARALLEL_FROM", 10)
    monkeypatch.setattr(lmdev.classifier.bulk, "CHUNK", 7)
    parallel = cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--workers", "2")
    assert parallel.code == 0, parallel.err
    assert parallel.out == serial.out
    assert len(parallel.out.splitlines()) == len(rows)
    assert "\x1b" not in parallel.out
