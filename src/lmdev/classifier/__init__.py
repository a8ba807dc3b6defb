"""Suggesting problems and assumptions for a paper: the seed-term prior, the learned model,
its training, evaluation and on-disk cache, and applying suggestions to papers."""

from lmdev.classifier.apply import apply_suggestions, suggestions_for
from lmdev.classifier.model import Doc, Model, Result, Suggestion
from lmdev.classifier.modelcache import load_model

__all__ = ["Doc", "Model", "Result", "Suggestion", "apply_suggestions", "load_model", "suggestions_for"]
