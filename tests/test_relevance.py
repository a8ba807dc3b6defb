"""Relevance, the predicted primary, the evaluation splits, and what makes the classifier robust:
stems, release boilerplate, shared seed terms, the shipped background, calibration."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SHIPPED
from lmdev import decisions
from lmdev.classifier import background
from lmdev.classifier.evaluation import evaluate, id_year
from lmdev.classifier.fitting import auc, fit_logistic, sigmoid
from lmdev.classifier.model import Doc, Model
from lmdev.classifier.prior import Prior
from lmdev.classifier.training import prior_only, train
from lmdev.models import Paper, ProblemTag
from lmdev.store import Library
from lmdev.text import document_tokens, stemmed, strip_boilerplate

LM_PAPER = ("2501.00001", "Faster inference with 4-bit quantization of the KV cache", "We reduce memory and latency of large language model decoding by quantizing the key-value cache, with no loss in accuracy and a large throughput speedup.")
VISION_PAPER = ("2501.00009", "Panoptic segmentation of indoor scenes from point clouds", "We segment 3D point clouds of indoor rooms into objects and stuff with a sparse convolutional network, improving panoptic quality on two indoor benchmarks.")
APPLICATION = ("2501.00010", "A clinical assistant for patients with heart failure", "We apply a medical large language model to answer patient questions in a hospital, evaluated with clinicians on healthcare tasks.")


def _doc(row: tuple[str, str, str]) -> Doc:
    return Doc.of(*row)


def _small_library(tmp_path: Path, old: int = 30, new: int = 30, rejected: int = 30) -> Path:
    """A copy of the shipped taxonomy with a sample of the shipped papers from before and after
    2023 and of the shipped rejections: the real kind of data, small enough to train in a test."""
    target = tmp_path / "small"
    (target / "papers").mkdir(parents=True)
    shutil.copy(SHIPPED / "taxonomy.yaml", target / "taxonomy.yaml")
    papers = sorted((SHIPPED / "papers").glob("*.yaml"))
    lib = Library(SHIPPED)
    by_year = [(path, lib.read(path).paper.year or 0) for path in papers]
    rng = random.Random(1)
    chosen = rng.sample([p for p, y in by_year if y <= 2023], old) + rng.sample([p for p, y in by_year if y > 2023], new)
    for path in chosen:
        shutil.copy(path, target / "papers" / path.name)
    entries = decisions.load(SHIPPED)
    kept = rng.sample(entries, rejected)
    decisions.record(target, [e.rejection for e in kept])
    return target


# --- text ---------------------------------------------------------------------------------


def test_stems_join_the_forms_of_a_word_and_british_spellings() -> None:
    assert len(set(stemmed("retrieved retrieval retrieving retrieve"))) == 1
    assert stemmed("optimise optimisation") == stemmed("optimize optimization")
    assert stemmed("behaviour") == stemmed("behavior")
    assert stemmed("LLMs") == stemmed("LLM")
    assert stemmed("optimal") != stemmed("optimization")


def test_a_term_is_named_by_the_first_word_of_the_text_that_has_its_stem() -> None:
    from lmdev.text import fold, stem, surfaces, written_as

    text = fold("Safety matters. We study sparsity; pruning pruned weights in predefined LLMs, and safer models.")
    assert written_as(text, stem("safety")) == "safety"
    assert written_as(text, stem("sparsity")) == "sparsity"  # the stem ('sparsiti') begins no word
    assert written_as(text, stem("prune")) == "pruning"
    assert written_as(text, stem("defined")) is None  # inside 'predefined' only: not a word of its own
    assert written_as(text, stem("llm")) == "llms"
    first = surfaces(text)  # the first word of each stem, from a pass over every word
    assert all(written_as(text, s) == word for s, word in first.items())


def test_accented_and_foreign_text_folds_to_the_same_words() -> None:
    from lmdev.text import fold, stemmed, tokens

    assert fold("Ré-sumé of a naïve Œuvre: α–β × 2") == "re sume of a naive œuvre  α β   2"
    assert tokens("Coöperative décodage") == ["cooperative", "decodage"]
    assert stemmed("Pré-training") == stemmed("pre training")
    # hostile text made of every character there is: still folded, and the memo of how each
    # character folds stays bounded
    import unicodedata

    import lmdev.text as text

    everything = "".join(chr(c) for c in range(0x20000) if not 0xD800 <= c < 0xE000)
    folded = fold(everything)
    assert "a" in folded and not any(unicodedata.combining(c) for c in folded)
    assert len(text._FOLDING) <= 20_000


def test_release_boilerplate_is_not_read_as_a_topic() -> None:
    abstract = "We prune attention heads. Code and hyperparameters are available at https://github.com/x/y. When little labelled data is available, pruning helps."
    kept = strip_boilerplate(abstract)
    assert "github" not in kept and "hyperparameters" not in kept
    assert "When little labelled data is available" in kept
    words = document_tokens("Pruning heads", abstract)
    assert words[:4] == stemmed("Pruning heads") * 2 and "code" not in words


def test_a_seed_phrase_two_problems_share_counts_half_for_each() -> None:
    tax = Library(SHIPPED).taxonomy
    prior = Prior(tax)
    table = {node: prior.phrases[i] for i, node in enumerate(prior.node_ids)}
    scope = prior.phrases[prior.scope_index]
    shared = [p for p in table["prompting"] if p in table["alignment"] and p not in scope and table["prompting"][p] > 0.3]
    single = [p for p in table["prompting"] if p not in table["alignment"] and p not in scope and table["prompting"][p] > 0.3]
    assert single and all(table["prompting"][p] == 1.0 for p in single)
    assert all(table["prompting"][p] == 0.5 for p in shared)
    # a phrase naming the kind of model (a scope term) counts half for the problem that lists it
    named = [p for p in table["prompting"] if p in scope and p not in table["alignment"]]
    assert named and all(table["prompting"][p] == 0.5 for p in named)


def test_the_shipped_background_holds_no_judged_paper() -> None:
    rows = background.load()
    assert len(rows) > 800
    judged = {p.id for p in Library(SHIPPED).papers()} | decisions.rejected_ids(SHIPPED)
    # nor any paper of the days judged for evaluation only: the background is unlabelled, but a
    # held-out paper in it would be self-trained on before it is scored
    for day in (REPO / "benchmarks" / "judged").glob("*.yaml"):
        judged |= {str(item["id"]) for item in yaml.safe_load(day.read_text(encoding="utf-8"))}
    assert not judged & {r[0] for r in rows}
    assert json.loads(background.version())["papers"] == len(rows)


# --- relevance and primary -----------------------------------------------------------------


def test_cold_start_relevance_from_the_taxonomy_alone(empty_data_dir: Path) -> None:
    model = prior_only(Library(empty_data_dir).taxonomy)
    lm, vision = model.classify(_doc(LM_PAPER)), model.classify(_doc(VISION_PAPER))
    assert lm.relevance > 0.5 > vision.relevance
    assert lm.primary == "efficiency" and lm.problems[0].suggested
    assert not any(s.suggested for s in vision.problems)
    assert model.triage(_doc(LM_PAPER)) == (lm.relevance, lm.primary)


# A method paper and a paper applying the same kind of method to a domain (the judging guide's
# "applies an LLM to a domain"): the first is for the tracker, the second is not.
SAME_TOPIC = [
    (("2501.00011", "Adaptive retrieval for retrieval-augmented generation with large language models", "We propose a retrieval-augmented generation method that decides when a large language model should retrieve, reducing hallucination and improving accuracy on open-domain question answering benchmarks."),
     ("2501.00012", "A retrieval-augmented chatbot for hospital patients", "We build a retrieval-augmented large language model assistant that answers questions of patients in a hospital from clinical guidelines, evaluated by clinicians in a pilot study.")),
    (("2501.00013", "Chain-of-thought prompting improves reasoning in large language models", "We study how chain-of-thought prompts and in-context examples change the reasoning accuracy of large language models across arithmetic and symbolic reasoning benchmarks."),
     ("2501.00014", "Prompting large language models to grade student essays", "We prompt a large language model to score essays written by high-school students and compare its grades with those of teachers in an educational setting.")),
    (("2501.00015", "Low-rank adaptation with fewer trainable parameters for language models", "We propose a parameter-efficient fine-tuning method that trains fewer parameters than LoRA while matching full fine-tuning of large language models on instruction following."),
     ("2501.00016", "Fine-tuning a language model for legal contract review", "We fine-tune a large language model on contracts annotated by lawyers to flag risky clauses for a law firm, and report accuracy on a legal benchmark.")),
]


def test_cold_start_learns_relevance_from_the_background_alone(empty_data_dir: Path) -> None:
    """Nothing tagged, nothing rejected: the seed terms label the surest background papers and
    relevance learns the rest of their words from them, so it still ranks method papers first."""
    model = prior_only(Library(empty_data_dir).taxonomy)
    assert model.data["trained_on"] == 0 and model.data["rejections"] == 0
    assert model.data["relevance"]["weights"]
    for method, application in SAME_TOPIC:
        assert model.triage(_doc(method))[0] > 0.5 > model.triage(_doc(application))[0]
    assert model.triage(_doc(LM_PAPER))[0] > model.triage(_doc(VISION_PAPER))[0]


def test_a_domain_application_is_less_relevant_than_a_method_on_the_same_topic() -> None:
    lib = Library(SHIPPED)
    rejected = [(e.rejection.id, e.rejection.title or "", e.rejection.abstract or "") for e in decisions.load(lib.root)]
    model = train(lib.taxonomy, lib.papers(), rejected)
    for method, application in SAME_TOPIC:
        assert model.triage(_doc(method))[0] > 0.5 > model.triage(_doc(application))[0]


def test_rejections_teach_relevance(tmp_path: Path) -> None:
    lib = Library(_small_library(tmp_path))
    rejected = [(e.rejection.id, e.rejection.title or "", e.rejection.abstract or "") for e in decisions.load(lib.root)]
    without = train(lib.taxonomy, lib.papers())
    learned = train(lib.taxonomy, lib.papers(), rejected)
    # without rejections the seed scores keep their cold-start weights; with them, all are fitted
    assert without.data["relevance"]["calibration"][:2] == list(Model.DEFAULT_RELEVANCE[:2])
    assert learned.data["relevance"]["calibration"][:2] != list(Model.DEFAULT_RELEVANCE[:2])
    assert learned.data["rejections"] == len(rejected)
    assert learned.classify(_doc(APPLICATION)).relevance < learned.classify(_doc(LM_PAPER)).relevance


def test_secondary_problems_need_more_than_the_primary() -> None:
    lib = Library(SHIPPED)
    model = train(lib.taxonomy, [p for p in lib.papers() if p.year is not None and p.year <= 2023])
    assert model.secondary >= 0.5
    papers = [p for p in lib.papers() if p.year is not None and p.year > 2023][:60]
    for paper in papers:
        result = model.classify(Doc.of(paper.id, paper.title, paper.abstract), reasons="none")
        suggested = [s for s in result.problems if s.suggested]
        assert not suggested or suggested[0].id == result.primary
        assert all(s.score >= model.secondary for s in suggested[1:])
    assert sum(sum(s.suggested for s in model.classify(Doc.of(p.id, p.title, p.abstract)).problems) for p in papers) <= 1.5 * len(papers)


def test_calibration_never_gives_a_score_a_negative_weight() -> None:
    lib = Library(SHIPPED)
    model = train(lib.taxonomy, [p for p in lib.papers() if p.year is not None and p.year <= 2023])
    for node in model.data["nodes"].values():
        a, b, _ = node["calibration"]
        assert a >= 0 and b >= 0
    assert all(w >= 0 for w in model.data["relevance"]["calibration"][:3])


def test_fit_logistic_matches_the_closed_form_of_a_single_rate() -> None:
    rows = [(0.0,)] * 40
    labels = [1] * 10 + [0] * 30
    w = fit_logistic(rows, labels, smooth=False)
    assert math.isclose(sigmoid(w[1]), 0.25, rel_tol=1e-4)
    bounded = fit_logistic([(x,) for x in range(40)], [int(x < 10) for x in range(40)], nonnegative=(0,))
    assert bounded[0] == 0.0


def test_auc_matches_its_definition() -> None:
    rng = random.Random(3)
    pos = [rng.random() + 0.2 for _ in range(50)]
    neg = [round(rng.random(), 1) for _ in range(70)]
    pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert math.isclose(auc(pos, neg), pairs)
    sklearn = pytest.importorskip("sklearn.metrics")
    assert math.isclose(auc(pos, neg), sklearn.roc_auc_score([1] * 50 + [0] * 70, pos + neg))


# --- command line --------------------------------------------------------------------------


def _jsonl(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"arxiv_id": i, "title": t, "abstract": a}) + "\n" for i, t, a in rows))
    return path


def test_json_output_has_relevance_primary_and_reasons_only_where_suggested(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path)
    source = _jsonl(tmp_path, [LM_PAPER, VISION_PAPER])
    result = cli("--data-dir", str(data), "classify", "--input", str(source), "--format", "json")
    assert result.code == 0, result.err
    lm, vision = json.loads(result.out)
    assert list(lm)[:3] == ["id", "relevance", "primary"]
    assert 0.0 <= vision["relevance"] < lm["relevance"] <= 1.0
    assert lm["primary"] == lm["problems"][0]["id"] == "efficiency"
    for row in (lm, vision):
        for tag in row["problems"] + row["assumptions"]:
            assert bool(tag["reasons"]) == tag["suggested"]
    explained = json.loads(cli("--data-dir", str(data), "classify", "--input", str(source), "--format", "json", "--explain").out)
    assert all(tag["reasons"] for row in explained for tag in row["problems"] + row["assumptions"])
    text = cli("--data-dir", str(data), "classify", "--input", str(source))
    assert text.out.splitlines()[0].startswith(f"{LM_PAPER[0]}\trelevance: ")


def test_apply_sets_the_predicted_primary_when_the_paper_has_none(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path)
    Library(data).save(Paper(id=LM_PAPER[0], title=LM_PAPER[1], abstract=LM_PAPER[2]))
    result = cli("--data-dir", str(data), "classify", LM_PAPER[0], "--apply")
    assert result.code == 0, result.err
    saved = yaml.safe_load((data / "papers" / f"{LM_PAPER[0]}.yaml").read_text())
    assert saved["primary"] == "efficiency"
    assert saved["problems"][0] == {"id": "efficiency", "by": "classifier", "score": saved["problems"][0]["score"]}


def test_apply_keeps_a_persons_primary(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path)
    Library(data).save(Paper(id=LM_PAPER[0], title=LM_PAPER[1], abstract=LM_PAPER[2], primary="scaling", problems=[ProblemTag(id="scaling")]))
    assert cli("--data-dir", str(data), "classify", LM_PAPER[0], "--apply").code == 0
    assert yaml.safe_load((data / "papers" / f"{LM_PAPER[0]}.yaml").read_text())["primary"] == "scaling"


def test_a_new_rejection_retrains_the_model(tmp_path: Path) -> None:
    from lmdev.classifier.modelcache import fingerprint, load_model

    lib = Library(_small_library(tmp_path, rejected=12))
    before = fingerprint(lib)
    assert load_model(lib).data["rejections"] == 12
    decisions.record(lib.root, [decisions.Rejection("2502.00077", "survey", dt.date(2026, 1, 1), "A survey of surveys", "We survey surveys.")])
    assert fingerprint(lib) != before
    assert load_model(lib).data["rejections"] == 13


def test_a_damaged_rejection_record_is_named_and_nothing_is_trained(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path, rejected=3)
    with (data / "rejected.yaml").open("a") as handle:
        handle.write("- {id: not an id, reason: x}\n")
    result = cli("--data-dir", str(data), "classify", "--input", str(_jsonl(tmp_path, [LM_PAPER])))
    assert result.code == 1
    assert "rejected.yaml:" in result.err and "Traceback" not in result.err


def test_huge_and_hostile_records_are_classified_or_skipped(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path, rejected=3)
    huge = ("2501.00100", "Speculative decoding " * 50, "draft tokens verify " * 40_000)  # under the 1 MB a line may have
    hostile = ("2501.00101", "\x1b[31mred\x1b[0m \u202e naïve Ünïcödé", "Zero\u200bwidth and \ufeff marks; 数学 reasoning with prompts.")
    result = cli("--data-dir", str(data), "classify", "--input", str(_jsonl(tmp_path, [huge, hostile])), "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [r["id"] for r in rows] == [huge[0], hostile[0]]
    assert all(0.0 <= r["relevance"] <= 1.0 for r in rows)


def test_eval_reports_cross_validation_and_the_temporal_split(cli, tmp_path: Path) -> None:
    data = _small_library(tmp_path)
    result = cli("--data-dir", str(data), "eval", "--folds", "3", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    temporal = report["temporal"]
    assert temporal["split_year"] == 2023
    assert temporal["train"] == {"papers": 30, "rejections": 0}
    assert temporal["test"] == {"papers": 30, "rejections": 30}
    for figures, papers in ((report["model"], report["papers"]), (temporal["model"], 30), (temporal["baseline"], 30)):
        assert 0.0 <= figures["primary_accuracy"] <= figures["top_problem_accuracy"] <= 1.0
        assert 0.0 <= figures["relevance_auc"] <= 1.0
        assert 0.0 <= figures["problems_micro_f1"] <= 1.0
        assert sum(b["suggested"] for b in figures["bands"]) == round(figures["problems_suggested_per_paper"] * papers)
    text = cli("--data-dir", str(data), "eval", "--folds", "3")
    assert "acc@1, primary" in text.out and "relevance ROC AUC" in text.out and "temporal" in text.out


def test_temporal_split_reads_a_rejections_year_from_its_id() -> None:
    assert id_year("2407.01392") == 2024 and id_year("hep-th/9901001") == 1999 and id_year("some-slug") is None


def test_evaluate_without_later_papers_has_no_temporal_split() -> None:
    lib = Library(SHIPPED)
    older = [p for p in lib.papers() if p.year is not None and p.year <= 2023][:40]
    assert evaluate(lib.taxonomy, older, folds=2).temporal is None


def test_the_bulk_json_writer_gives_exactly_what_the_result_serialises_to() -> None:
    lib = Library(SHIPPED)
    model = train(lib.taxonomy, [p for p in lib.papers() if p.year is not None and p.year <= 2023])
    docs = [_doc(LM_PAPER), _doc(VISION_PAPER), _doc(APPLICATION), Doc.of("2501.00011", 'Quotes " and \\ back\nslash', "Prompting ünïcode 数学 chain-of-thought.")]
    for doc in docs:
        for reasons in ("none", "suggested", "all"):
            assert model.classify_json(doc, reasons=reasons) == json.dumps(model.classify(doc, reasons=reasons).to_json(), ensure_ascii=False)
