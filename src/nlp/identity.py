"""Theme identity across re-fits: match new clusters to previous themes by centroid similarity."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_centroids"]


def match_centroids(previous: np.ndarray, current: np.ndarray, min_similarity: float) -> dict[int, int]:
    """One-to-one pairs {current index: previous index} maximizing total cosine similarity (both inputs
    L2-normalized, in the SAME space); pairs below min_similarity are left unmatched."""
    if len(previous) == 0 or len(current) == 0:
        return {}
    sims = current @ previous.T
    rows, cols = linear_sum_assignment(sims, maximize=True)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if sims[r, c] >= min_similarity}
