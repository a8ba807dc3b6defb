"""The classifier: zero-label prior, learned model, calibration, reasons, and safety of tags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SHIPPED
from lmdev.classifier.evaluation import cross_validate
from lmdev.classifier.model import Doc
from lmdev.classifier.training import prior_only, train
from lmdev.models import AssumptionTag, Paper, ProblemTag
from lmdev.store import Library

CORPUS_LINES = [
    {"arxiv_id": "2501.00001", "title": "Faster inference with 4-bit quantization of the KV cache", "abstract": "We reduce memory and latency of decoding with quantization of the key-value cache, with no loss in accuracy and a large throughput speedup."},
    {"arxiv_id": "2501.00002", "title": "Chain-of-thought prompting for arithmetic", "abstract": "Few-shot prompts with reasoning demonstrations improve in-context learning on math word problems without any fine-tuning."},
    {"arxiv_id": "2501.00003", "title": "Red teaming language models for harmful outputs", "abstract": "We study safety risks, jailbreak attacks and toxicity, and propose defenses against misuse."},
]


def _jsonl(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "new.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_with_zero_tagged_papers_the_seed_terms_still_suggest(empty_data_dir: Path) -> None:
    model = prior_only(Library(empty_data_dir).taxonomy)
    row = CORPUS_LINES[0]
    result = model.classify(Doc.of(row["arxiv_id"], row["title"], row["abstract"]))
    assert result.problems[0].id == "efficiency" and result.problems[0].suggested
    assert all(0.0 <= s.score <= 1.0 for s in [*result.problems, *result.assumptions])
    assert any("seed terms: " in r and "quantization" in r for r in result.problems[0].reasons)
    assert "seed terms only" in result.problems[0].reasons[-1]


def test_learned_model_beats_the_seed_terms_baseline_on_the_shipped_data() -> None:
    lib = Library(SHIPPED)
    older = [p for p in lib.papers() if p.year is not None and p.year <= 2023]  # a quick subset
    split = cross_validate(lib.taxonomy, older)
    assert split.test_papers == sum(1 for p in older if p.is_tagged())
    assert split.model.summary["micro_f1"] > split.baseline.summary["micro_f1"]
    assert split.model.summary["macro_f1"] > split.baseline.summary["macro_f1"]
    assert split.model.primary_accuracy >= split.baseline.primary_accuracy


def test_reasons_show_words_as_written_not_stems() -> None:
    from lmdev.text import stem

    lib = Library(SHIPPED)
    model = train(lib.taxonomy, lib.papers())
    title = "Speculative decoding accelerates inference with a cached draft model"
    abstract = "Speculative decoding with a small draft model and caching of keys and values gives large speedups at inference."
    result = model.classify(Doc.of("2501.00004", title, abstract))
    terms = next(r for r in result.problems[0].reasons if r.startswith("terms: "))
    shown = [t.rsplit(" (", 1)[0] for t in terms[len("terms: "):].split(", ")]
    assert "speculative" in shown, terms
    assert "specul" not in shown and all(stem(word) != word or word in title.lower() + abstract.lower() for word in shown), terms


def test_a_reason_names_a_term_by_the_papers_own_word_whatever_else_was_classified() -> None:
    from lmdev.text import stem

    lib = Library(SHIPPED)
    model = train(lib.taxonomy, lib.papers())
    title = "Safer assistants"
    abstract = "Jailbreak attacks and red-teaming attacks expose harmful outputs; we study defenses against these attacks."
    before = model.classify(Doc.of("2501.00005", title, abstract)).problems[0].reasons
    stem("attack")  # another paper, classified earlier in the same process, wrote the shorter word
    after = model.classify(Doc.of("2501.00005", title, abstract)).problems[0].reasons
    assert after == before
    terms = next(r for r in after if r.startswith("terms: "))
    assert "attacks (" in terms and "attack (" not in terms, terms


def test_suggestions_carry_terms_and_nearest_tagged_papers() -> None:
    lib = Library(SHIPPED)
    model = train(lib.taxonomy, lib.papers())
    row = CORPUS_LINES[1]
    result = model.classify(Doc.of(row["arxiv_id"], row["title"], row["abstract"]), reasons="all")
    top = result.problems[0]
    assert top.id == "prompting" and top.suggested
    assert any(r.startswith(("terms: ", "seed terms: ")) and "chain-of-thought" in r for r in top.reasons)
    assert any(r.startswith("like: ") and "2201.11903" in r for r in top.reasons)
    out_of_box = next(s for s in result.assumptions if s.id == "out-of-the-box")
    assert out_of_box.stance in ("relies", "supports", "challenges")


def test_an_input_without_records_says_so_and_is_no_error(cli, data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    folder = tmp_path / "no-papers"
    folder.mkdir()
    for source, fmt, out in ((empty, "json", "[]\n"), (empty, "text", ""), (folder, "text", "")):
        result = cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--format", fmt)
        assert result.code == 0 and result.out == out
        assert result.err.strip() == f"classify: no records in {source}"


def test_classify_input_prints_one_object_per_paper_covering_every_tag(cli, data_dir: Path, tmp_path: Path) -> None:
    result = cli("--data-dir", str(data_dir), "classify", "--input", str(_jsonl(tmp_path, CORPUS_LINES)), "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [r["id"] for r in rows] == ["2501.00001", "2501.00002", "2501.00003"]
    for row in rows:
        assert len(row["problems"]) == 9 and len(row["assumptions"]) == 11
        scores = [p["score"] for p in row["problems"]]
        assert scores == sorted(scores, reverse=True)
        assert all(set(a) == {"id", "stance", "score", "suggested", "reasons"} for a in row["assumptions"])
    assert rows[0]["problems"][0]["id"] == "efficiency"
    assert rows[2]["problems"][0]["id"] == "safety"


def test_explain_on_an_input_file_asks_for_json_rather_than_doing_nothing(cli, data_dir: Path, tmp_path: Path) -> None:
    source = _jsonl(tmp_path, CORPUS_LINES[:1])
    text = cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--explain")
    assert text.code == 2 and "--format json" in text.err and not text.out
    rows = json.loads(cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--explain", "--format", "json").out)
    assert all(tag["reasons"] for tag in rows[0]["problems"])


def test_classify_input_accepts_paper_yaml_and_skips_bad_records(cli, data_dir: Path, tmp_path: Path) -> None:
    single = cli("--data-dir", str(data_dir), "classify", "--input", str(SHIPPED / "papers" / "2205.14135.yaml"), "--format", "json")
    assert json.loads(single.out)[0]["id"] == "2205.14135"
    draft = tmp_path / "draft.yaml"  # a file outside the library need not be named after its id
    draft.write_bytes((SHIPPED / "papers" / "2205.14135.yaml").read_bytes())
    named = cli("--data-dir", str(data_dir), "classify", "--input", str(draft), "--format", "json")
    assert named.code == 0, named.err
    assert json.loads(named.out)[0]["id"] == "2205.14135"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(CORPUS_LINES[0]) + "\n{not json\n" + json.dumps({"arxiv_id": "x"}) + "\n")
    result = cli("--data-dir", str(data_dir), "classify", "--input", str(bad))
    assert result.code == 1
    assert f"{bad}:2" in result.err and f"{bad}:3" in result.err
    assert result.out.startswith("2501.00001\t")
    odd = tmp_path / "odd.jsonl"  # a byte-order mark is read past; a 5,000-digit number is named plainly
    odd.write_text("\ufeff" + json.dumps(CORPUS_LINES[0]) + "\n" + '{"arxiv_id": "2501.00002", "title": "t", "n": ' + "9" * 5000 + "}\n")
    read = cli("--data-dir", str(data_dir), "classify", "--input", str(odd))
    assert read.code == 1 and read.out.startswith("2501.00001\t")
    assert f"{odd}:2" in read.err and "thousands of digits" in read.err and "set_int_max_str_digits" not in read.err


def test_parallel_bulk_path_gives_the_same_answers(cli, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.classifier.bulk

    rows = [dict(r, arxiv_id=f"2502.{n:05d}") for n in range(40) for r in CORPUS_LINES[n % 3 : n % 3 + 1]]
    source = _jsonl(tmp_path, rows)
    serial = cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--format", "json")
    monkeypatch.setattr(lmdev.classifier.bulk, "PARALLEL_FROM", 10)
    monkeypatch.setattr(lmdev.classifier.bulk, "CHUNK", 7)
    parallel = cli("--data-dir", str(data_dir), "classify", "--input", str(source), "--format", "json", "--workers", "2")
    assert parallel.code == 0, parallel.err
    assert json.loads(parallel.out) == json.loads(serial.out)


def test_apply_never_replaces_or_removes_a_persons_tag(cli, small_dir: Path) -> None:
    data_dir = small_dir  # three papers: what is kept does not depend on how much the model knows
    lib = Library(data_dir)
    paper = Paper(
        id="2501.00001",
        title=CORPUS_LINES[0]["title"],
        abstract=CORPUS_LINES[0]["abstract"],
        problems=[ProblemTag(id="alignment"), ProblemTag(id="efficiency", by="person")],
        assumptions=[AssumptionTag(id="cost-irrelevant", stance="relies"), AssumptionTag(id="end-to-end", stance="challenges", by="classifier", score=0.9)],
    )
    lib.save(paper)
    result = cli("--data-dir", str(data_dir), "classify", "2501.00001", "--apply", "--min-score", "0.01")
    assert result.code == 0, result.err
    data = yaml.safe_load((data_dir / "papers" / "2501.00001.yaml").read_text())
    problems = {p["id"]: p for p in data["problems"]}
    assumptions = {a["id"]: a for a in data["assumptions"]}
    assert problems["alignment"] == {"id": "alignment", "by": "person"}
    assert problems["efficiency"] == {"id": "efficiency", "by": "person"}
    assert assumptions["cost-irrelevant"] == {"id": "cost-irrelevant", "stance": "relies", "by": "person"}
    added = [p for p in data["problems"] if p["by"] == "classifier"]
    assert added and all(0 <= p["score"] <= 1 for p in added)
    again = cli("--data-dir", str(data_dir), "classify", "2501.00001", "--apply", "--min-score", "1.0")
    assert again.code == 0
    data = yaml.safe_load((data_dir / "papers" / "2501.00001.yaml").read_text())
    assert {p["id"] for p in data["problems"]} == {"alignment", "efficiency"}
    assert [a["id"] for a in data["assumptions"]] == ["cost-irrelevant"]


def test_default_selection_is_the_untagged_papers(cli, small_dir: Path) -> None:
    data_dir = small_dir
    none = cli("--data-dir", str(data_dir), "classify")
    assert none.code == 0 and "no untagged papers" in none.err
    Library(data_dir).save(Paper(id="2501.00002", title=CORPUS_LINES[1]["title"], abstract=CORPUS_LINES[1]["abstract"]))
    result = cli("--data-dir", str(data_dir), "classify", "--format", "json")
    assert [r["id"] for r in json.loads(result.out)] == ["2501.00002"]


def test_the_model_is_cached_and_invalidated_when_papers_change(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.classifier.modelcache

    lib = Library(data_dir)
    first = lmdev.classifier.modelcache.load_model(lib)

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again although nothing changed")

    monkeypatch.setattr(lmdev.classifier.modelcache, "train_and_cache", no_training)
    assert lmdev.classifier.modelcache.load_model(lib).data["fingerprint"] == first.data["fingerprint"]
    monkeypatch.undo()
    path = data_dir / "papers" / "2205.14135.yaml"
    path.write_text(path.read_text().replace("- id: efficiency\n  by: essay\n", "- id: efficiency\n  by: essay\n- id: scaling\n  by: person\n"))
    assert lmdev.classifier.modelcache.load_model(lib).data["fingerprint"] != first.data["fingerprint"]


def test_add_accept_suggestions_tags_new_papers_as_the_classifiers(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from arxiv_server import FakeArxiv

    with FakeArxiv({"2501.00001": {"title": CORPUS_LINES[0]["title"]}}) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        result = cli("--data-dir", str(data_dir), "add", "2501.00001", "--accept-suggestions", "--problem", "scaling")
    assert result.code == 0, result.err
    data = yaml.safe_load((data_dir / "papers" / "2501.00001.yaml").read_text())
    assert {"id": "scaling", "by": "person"} in data["problems"]
    assert any(p["by"] == "classifier" for p in data["problems"] + data.get("assumptions", []))


def test_a_longer_seed_phrase_takes_its_words_from_the_shorter_ones(empty_data_dir: Path) -> None:
    """'direct preference optimization' is alignment's phrase: its 'optimization' is not evidence
    for the optimization problem, nor the 'prompt' of 'prompt injection' for prompting; the same
    words elsewhere in the text still count, and the scope score sees every word."""
    from lmdev.classifier.prior import SCOPE, Prior
    from lmdev.text import stemmed

    taxonomy = Library(empty_data_dir).taxonomy
    prior = Prior(taxonomy)
    phrase_only = stemmed("We align language models with direct preference optimization and defend them against prompt injection.")
    rows = dict(zip(prior.rows, prior.counts(phrase_only)))
    assert rows["alignment"][("direct", "prefer", "optim")] == 1 and ("prefer", "optim") not in rows["alignment"]
    assert ("optim",) not in rows["optimization"] and ("prompt",) not in rows["prompting"]
    assert rows["safety"] == {("prompt", "inject"): 1} and rows[SCOPE][("prompt",)] == 1
    also_alone = stemmed("Direct preference optimization resists prompt injection; the optimization of prompts is open.")
    rows = dict(zip(prior.rows, prior.counts(also_alone)))
    assert rows["optimization"][("optim",)] == 1 and rows["prompting"][("prompt",)] == 1

    model = prior_only(taxonomy)
    title = "Direct preference optimization against prompt injection"
    result = model.classify(Doc.of("2501.00009", title, "We align language models with direct preference optimization and defend them against prompt injection."), reasons="all")
    by_id = {s.id: s for s in result.problems}
    assert [s.id for s in result.problems[:2]] == ["safety", "alignment"]
    assert not any(r.startswith("seed terms: ") for r in by_id["optimization"].reasons)
    assert by_id["optimization"].score < 0.2 < by_id["alignment"].score


def test_suggestions_are_not_learned_from_so_applying_twice_changes_nothing(cli, data_dir: Path) -> None:
    """The model learns from a person's and the essay's tags only: its own unconfirmed
    suggestions, once written, would teach it what it already thinks, and each run would drift."""
    lib = Library(data_dir)
    papers = lib.papers()
    with_suggestion = [p.model_copy(update={"problems": [*p.problems, ProblemTag(id="scaling", by="classifier", score=0.9)]}) if "scaling" not in p.problem_ids() else p for p in papers]
    mixed = papers[0].model_copy(update={"problems": [ProblemTag(id="scaling"), ProblemTag(id="efficiency", by="classifier", score=0.9)], "primary": "efficiency"})
    assert mixed.as_reviewed().problem_ids() == ["scaling"] and mixed.as_reviewed().primary is None, "nobody named a primary"
    plain, suggested = train(lib.taxonomy, papers), train(lib.taxonomy, with_suggestion)
    assert plain.data["nodes"]["scaling"]["tagged"] == suggested.data["nodes"]["scaling"]["tagged"]
    ids = ["2307.03172", "2205.14135", "2005.14165", "2001.08361", "2205.05638"]
    first = cli("--data-dir", str(data_dir), "classify", *ids, "--apply", "--min-score", "0.2")
    assert first.code == 0, first.err
    written = {i: (data_dir / "papers" / f"{i}.yaml").read_bytes() for i in ids}
    assert any(b"by: classifier" in text for text in written.values()), "the test needs a suggestion applied"
    again = cli("--data-dir", str(data_dir), "classify", *ids, "--apply", "--min-score", "0.2")
    assert again.code == 0, again.err
    assert {i: (data_dir / "papers" / f"{i}.yaml").read_bytes() for i in ids} == written


def test_a_suggestion_a_person_took_off_is_never_applied_again(cli, data_dir: Path) -> None:
    path = data_dir / "papers" / "2307.03172.yaml"
    cli("--data-dir", str(data_dir), "classify", "2307.03172", "--apply", "--min-score", "0.01")
    suggested = [t["id"] for t in yaml.safe_load(path.read_text())["assumptions"] if t["by"] == "classifier"]
    assert suggested
    off = cli("--data-dir", str(data_dir), "tag", "2307.03172", "--remove", suggested[0])
    assert off.code == 0, off.err
    assert yaml.safe_load(path.read_text())["declined"] == [suggested[0]]
    cli("--data-dir", str(data_dir), "classify", "2307.03172", "--apply", "--min-score", "0.01")
    data = yaml.safe_load(path.read_text())
    assert suggested[0] not in {t["id"] for t in data["assumptions"]}
    assert "declined" in cli("--data-dir", str(data_dir), "show", "2307.03172").out
    shown = json.loads(cli("--data-dir", str(data_dir), "classify", "2307.03172", "--min-score", "0.01", "--format", "json").out)
    [tag] = [t for t in shown[0]["assumptions"] if t["id"] == suggested[0]]
    assert tag["suggested"] is False and tag["reasons"][0].startswith("declined: a person took this suggestion off")
    back = cli("--data-dir", str(data_dir), "tag", "2307.03172", "--assumption", f"{suggested[0]}:relies")
    assert back.code == 0
    data = yaml.safe_load(path.read_text())
    assert "declined" not in data and {"id": suggested[0], "stance": "relies", "by": "person"} in data["assumptions"]


def test_accepting_suggestions_names_a_file_the_model_was_trained_without(cli, small_dir: Path) -> None:
    """``tag --accept-suggestions`` (like ``add`` and ``import`` with it) trains the model too:
    the tags are applied, and the broken file is named, with exit 1, as a reading command would."""
    (small_dir / "papers" / "2401.00001.yaml").write_text("id: [\n")
    result = cli("--data-dir", str(small_dir), "tag", "2205.14135", "--accept-suggestions")
    assert result.code == 1 and "2401.00001.yaml" in result.err and "trained without it" in result.err
    assert "2205.14135:" in result.err


def test_classifying_one_paper_names_a_file_the_model_was_trained_without(cli, small_dir: Path) -> None:
    """Training reads every paper file: one that does not read is left out, and a command that
    reads no other paper still says so (and exits 1), even when the model comes from the cache."""
    (small_dir / "papers" / "2401.00001.yaml").write_text("id: [\n")
    for _ in range(2):  # trained, then from the cache
        result = cli("--data-dir", str(small_dir), "classify", "2205.14135")
        assert result.code == 1 and "2401.00001.yaml" in result.err and "trained without it" in result.err
        assert "2205.14135" in result.out


def test_a_file_the_model_was_trained_without_is_named_once(cli, small_dir: Path) -> None:
    """``rescore`` trains the model too; however often a command meets the broken file, it is
    named (and counted) once."""
    (small_dir / "papers" / "2401.00001.yaml").write_text("id: [\n")
    result = cli("--data-dir", str(small_dir), "rescore")
    assert result.code == 1 and result.err.count("2401.00001.yaml") == 1 and "trained without it" in result.err
    from lmdev.cli.base import state, trained_model
    from lmdev.store import Library

    state.reset(debug=False)
    lib = Library(small_dir)
    trained_model(lib)
    trained_model(lib)
    assert state.skipped == 1
    state.reset(debug=False)


def test_a_paper_waiting_in_the_inbox_can_be_classified_but_not_applied(cli, data_dir: Path) -> None:
    """Why does the inbox rank it there? ``classify ID --explain`` answers for a waiting paper
    too; ``--apply`` writes into stored papers only, so it points to ``accept`` and writes nothing."""
    from watch_fixtures import fill_inbox, make_item

    fill_inbox(data_dir, make_item("2605.90001", title="Chain-of-thought prompting with self-consistency for reasoning"))
    waiting = (data_dir / "inbox" / "2605.90001.yaml").read_bytes()
    result = cli("--data-dir", str(data_dir), "classify", "2605.90001", "--explain", "--format", "json")
    assert result.code == 0, result.err
    [row] = json.loads(result.out)
    assert row["id"] == "2605.90001" and row["primary"] == "prompting"
    assert all(p["reasons"] for p in row["problems"]), "--explain gives every problem its reasons"
    refused = cli("--data-dir", str(data_dir), "classify", "2605.90001", "--apply")
    assert refused.code == 1 and "lmdev accept 2605.90001" in refused.err and len(refused.err.strip().splitlines()) == 1
    assert not (data_dir / "papers" / "2605.90001.yaml").exists()
    assert (data_dir / "inbox" / "2605.90001.yaml").read_bytes() == waiting
    unknown = cli("--data-dir", str(data_dir), "classify", "2605.90002")
    assert unknown.code == 1 and "no paper '2605.90002'" in unknown.err
    from lmdev import decisions

    decisions.record(data_dir, [decisions.Rejection("2605.90003", "out of scope")])
    rejected = cli("--data-dir", str(data_dir), "classify", "2605.90003")
    assert rejected.code == 1 and rejected.err.strip() == "lmdev: error: 2605.90003 was rejected (out of scope); lmdev show 2605.90003 gives the record"
