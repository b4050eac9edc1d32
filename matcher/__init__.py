"""CoopMatch matcher: rank international cooperation offers against city projects and back.

Pure Python, numpy, scipy and scikit-learn; no web, database or task-queue imports.
"""

from .index import MatchIndex, MatchWeights, ScoredPair

__version__ = "1.3.0"

__all__ = ["MatchIndex", "MatchWeights", "ScoredPair", "__version__"]
