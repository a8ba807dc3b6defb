"""What the triage of a listing day leans on: the scope and against-scope vocabulary, the penalty
for naming no language model, and the primary's own calibration (issue 12)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pytest

from helpers import SHIPPED
from lmdev import decisions
from lmdev.classifier import scoring
from lmdev.classifier.model import Doc, Model, unscoped
from lmdev.classifier.primary import MIN_FOR_LEAD
from lmdev.classifier.training import train
from lmdev.store import Library
from lmdev.text import stemmed

CNN = ("2501.00031", "Learnable step sizes for quantization of convolutional networks", "We propose a quantization-aware training method that learns step sizes for low-bit quantization of convolutional neural networks, reducing memory and latency with little accuracy loss on ImageNet and CIFAR-100.")
LLM = ("2501.00032", "Learnable step sizes for quantization of large language models", "We propose a quantization-aware training method that learns step sizes for low-bit quantization of large language models, reducing memory and latency with little accuracy loss on language modeling and reasoning benchmarks.")


@lru_cache(maxsize=1)
def _shipped_model() -> Model:
    lib = Library(SHIPPED)
    rejected = [(e.rejection.id, e.rejection.title or "", e.rejection.abstract or "") for e in decisions.load(lib.root)]
    return train(lib.taxonomy, lib.papers(), rejected)


def _against(model: Model, title: str, abstract: str = "") -> float:
    return model.prior.scores(Doc.of("x", title, abstract).words)[model.prior.against_index]


def _scope(model: Model, title: str, abstract: str = "") -> float:
    return model.prior.scores(Doc.of("x", title, abstract).words)[model.prior.scope_index]


def test_core_papers_do_not_read_as_applied_to_a_domain() -> None:
    """Against-scope phrases stemmed into ordinary words once: 'law' was every scaling law."""
    model = _shipped_model()
    for title in ["Scaling Laws for Neural Language Models", "Taking inference cost into account when training language models", "Distilling a large teacher model into a small student model", "Customized decoding is competitive on every benchmark", "Serving language models on mobile devices"]:
        assert _against(model, title) == 0.0, title
    for title in ["A legal assistant for court documents", "A chatbot for hospital patients", "A comprehensive survey of agents: open challenges and future directions"]:
        assert _against(model, title) > 0.0, title


def test_reasoning_and_multimodal_models_are_named_in_scope() -> None:
    model = _shipped_model()
    for title in ["Safety in Large Reasoning Models", "Long video understanding with large multimodal models (LMMs)", "Vision-language-action models for robot control"]:
        assert _scope(model, title) > 0.0, title
    assert _scope(model, "Weight decay for ResNets on ImageNet") == 0.0


def test_problem_words_without_a_language_model_rank_below_the_same_method_for_one() -> None:
    model = _shipped_model()
    assert unscoped(0.0) == 1.0 and unscoped(10.0) == 0.0
    assert model.relevance_calibration[4] > 0  # the weight of naming no language model is fitted, and counts against
    cnn, llm = model.triage(Doc.of(*CNN))[0], model.triage(Doc.of(*LLM))[0]
    assert llm > 0.9 and llm - cnn > 0.3


def test_problems_with_enough_primaries_rank_by_their_own_primary_calibration() -> None:
    """Each problem's learned score and base rate weigh in the ranking as its primary calibration
    says (its presence calibration when few papers have it as their primary); the seed scores
    all keep one scale, so no problem wins by the slope of its own few papers."""
    model = _shipped_model()
    primaries = Counter(p.primary for p in Library(SHIPPED).papers() if p.primary)
    assert len({model.lead[index][1] for index in model.problem_index}) == 1
    for index in model.problem_index:
        node = model.node_ids[index]
        (a, _, c), (pa, _, pc) = model.lead[index], model.calibration[index]
        if primaries[node] >= MIN_FOR_LEAD:
            assert (a, c) != (pa, pc), node
        else:
            assert (a, c) == (pa, pc), node
    doc = Doc.of(*LLM)
    scores = model.scores(doc)
    assert model.triage(doc)[1] == model.node_ids[max(model.problem_index, key=scores.rank.__getitem__)]


def test_the_primary_is_read_from_what_the_title_says_the_paper_does() -> None:
    """A system's name and a setting that names a kind of model ('for vision-language models',
    'in LLM pre-training') say 'agent' or 'VLM' where the contribution is a safety or efficiency
    method: the primary's ranking reads the title's head. A goal ('for factual accuracy') stays."""
    model = _shipped_model()
    head = model.prior.head
    assert head("Token Pruning for Vision-Language Models") == stemmed("Token Pruning")
    assert head("Power Lines: Scaling Laws for Weight Decay and Batch Size in LLM Pre-training") == stemmed("Scaling Laws for Weight Decay and Batch Size")
    assert head("DocSLM: A Small Vision-Language Model for Long Multimodal Document Understanding") == stemmed("A Small Vision-Language Model for Long Multimodal Document Understanding")
    for whole in ["Aligning Knowledge Graphs and Language Models for Factual Accuracy", "GPT-4 Technical Report", "In-context learning: a survey", "To Each Their Own Tokenizer"]:
        assert head(whole) == stemmed(whole), whole
    assert head("Stabilising Temporal Encoding in Video LLMs for Factual Accuracy") == stemmed("Stabilising Temporal Encoding for Factual Accuracy"), "a goal after the setting stays"
    assert head("Quantization at 2:4 Sparsity Ratios for Large Language Models") == stemmed("Quantization at 2:4 Sparsity Ratios"), "a ratio's colon is not a name's"
    assert len(head("Pruning " + "for LLMs and more " * 5000)) < 100, "a title is read to its first few hundred characters"
    title = "AgentShield: Refusal Training for Multimodal LLM Agents"
    read, whole_title = scoring.heading_prior(model, head(title)), scoring.heading_prior(model, stemmed(title))
    safety, integration = model.node_ids.index("safety"), model.node_ids.index("integration")
    assert read[safety] > 0 and read[integration] == 0 < whole_title[integration]


def test_the_word_model_of_the_primary_learns_which_problem_wins() -> None:
    """A softmax regression over words separates primaries that share every other word, and its
    log probabilities sum to one."""
    import math

    from lmdev.classifier.fitting import fit_softmax, log_softmax, softmax_logits

    vectors = [{"model": 0.5, "jailbreak": 0.8}, {"model": 0.5, "quantize": 0.8}] * 20
    model = fit_softmax(vectors, [0, 1] * 20, 2, epochs=10, alpha=1e-4)
    safe, fast = (log_softmax(softmax_logits(model, v)) for v in vectors[:2])
    assert safe[0] > math.log(0.9) and fast[1] > math.log(0.9)
    assert math.fsum(math.exp(x) for x in safe) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="alpha"):  # a penalty that would zero the weights' scale
        fit_softmax(vectors, [0, 1] * 20, 2, epochs=1, alpha=0.25)


def test_the_word_model_weighs_in_only_with_enough_primaries() -> None:
    """On the shipped library (over 500 primaries) the ranking has a word model with a fitted
    weight. A library of a hundred primaries borrows the background papers whose primary the
    seed terms name surely (of today's arXiv: its own words would teach the era); without a
    background, or with too few papers for both together, it ranks without one."""
    model = _shipped_model()
    assert model.data["primary_words"] and model.primary_weights[4] > 0
    assert len(model.word_slots) == len(model.problem_index)
    lib = Library(SHIPPED)
    with_primary = [p for p in lib.papers() if p.primary]
    hundred = train(lib.taxonomy, with_primary[:100], [])
    assert hundred.data["primary_words"] and hundred.word_slots
    for small in (train(lib.taxonomy, with_primary[:100], [], use_background=False), train(lib.taxonomy, with_primary[:10], [])):
        assert small.data["primary_words"] is None and small.word_slots == [] and small.primary_weights[4] == 0.0
        assert small.triage(Doc.of(*LLM))[1] is not None
