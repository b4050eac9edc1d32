"""CoopMatch matcher: rank international cooperation offers against city projects and back.

Pure Python, numpy, scipy and scikit-learn; no web, database or task-queue imports.
"""

from ._version import __version__
from .index import MatchIndex, MatchWeights, ScoredPair

__all__ = ["MatchIndex", "MatchWeights", "ScoredPair", "__version__"]
