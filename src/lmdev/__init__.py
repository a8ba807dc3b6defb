"""lmdev: track the literature of language model development against the essay's taxonomy.

The package is a library first; :mod:`lmdev.cli` is a thin layer over it.
"""

__version__ = "0.2.0.dev0"
