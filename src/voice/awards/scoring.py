"""Judging arithmetic as pure functions: weighted totals, per-judge normalization, ranking with a stated
tie-break, and agreement between judges (Kendall's W with tie correction, Krippendorff's alpha, interval).

The final score of an entry is the mean of its judges' z-scores: each judge's weighted totals are
standardized across the entries that judge scored (sample standard deviation), so a strict judge and a
lenient one weigh the same. Ties on the final score are broken by the higher mean raw weighted score,
then by more judges, then by the earlier entry (lower entry id).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

JudgeId = Hashable
EntryId = int


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    weight: float
    scale_max: int


def weighted_total(values: Mapping[int, int], criteria: Sequence[CriterionSpec]) -> float:
    """A judge's score for an entry on a 0–100 scale: Σ wᵢ·(vᵢ/maxᵢ) / Σ wᵢ × 100.

    Each criterion is first brought to 0..1 by its own scale, so a criterion scored out of 5 and one out
    of 10 count by their weights only. A criterion left unscored counts as 0.
    """
    total_weight = sum(c.weight for c in criteria)
    if total_weight <= 0:
        return 0.0
    got = sum(c.weight * (values.get(c.id, 0) / c.scale_max) for c in criteria)
    return 100.0 * got / total_weight


def zscores(totals: Mapping[EntryId, float]) -> dict[EntryId, float]:
    """Standardize one judge's totals: (x − mean) / sample std; all 0 when the std is 0 or n < 2."""
    if len(totals) < 2:
        return dict.fromkeys(totals, 0.0)
    values = np.array(list(totals.values()), dtype=float)
    std = float(values.std(ddof=1))
    if std == 0.0:
        return dict.fromkeys(totals, 0.0)
    mean = float(values.mean())
    return {entry: (float(x) - mean) / std for entry, x in totals.items()}


@dataclass(frozen=True)
class EntryResult:
    entry_id: EntryId
    mean_raw: float  # mean of the judges' weighted totals (0–100)
    mean_normalized: float  # mean of the judges' z-scores
    spread: float  # sample std of those z-scores (0 with one judge): how much the judges disagree
    n_judges: int

    @property
    def final_score(self) -> float:
        return self.mean_normalized


def entry_results(totals_by_judge: Mapping[JudgeId, Mapping[EntryId, float]]) -> list[EntryResult]:
    """Per entry: mean raw total, mean z-score, spread and number of judges (judges normalized separately)."""
    raw: dict[EntryId, list[float]] = {}
    normalized: dict[EntryId, list[float]] = {}
    for totals in totals_by_judge.values():
        for entry, z in zscores(totals).items():
            raw.setdefault(entry, []).append(float(totals[entry]))
            normalized.setdefault(entry, []).append(z)
    out = []
    for entry in raw:
        zs = np.array(normalized[entry])
        out.append(EntryResult(
            entry_id=entry,
            mean_raw=float(np.mean(raw[entry])),
            mean_normalized=float(zs.mean()),
            spread=float(zs.std(ddof=1)) if len(zs) > 1 else 0.0,
            n_judges=len(zs),
        ))
    return out


def rank(results: Iterable[EntryResult]) -> list[EntryResult]:
    """Best first: final score, then higher mean raw score, then more judges, then earlier entry (lower id)."""
    return sorted(results, key=lambda r: (-round(r.final_score, 9), -round(r.mean_raw, 9), -r.n_judges, r.entry_id))


def kendall_w(matrix: Sequence[Sequence[float]]) -> float | None:
    """Kendall's coefficient of concordance for m judges (rows) ranking the same n entries (columns).

    Scores are turned into ranks per judge (ties get the mean rank) and ties are corrected for:
    W = 12·S / (m²(n³ − n) − m·Σⱼ Tⱼ), with S the sum of squared deviations of the rank sums from their
    mean and Tⱼ = Σ (t³ − t) over the tie groups of judge j. None when undefined (m < 2 or n < 2).
    """
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 2:
        return None
    m, n = data.shape
    ranks = np.vstack([rankdata(row) for row in data])
    rank_sums = ranks.sum(axis=0)
    s = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    ties = 0.0
    for row in data:
        _values, counts = np.unique(row, return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denominator = m ** 2 * (n ** 3 - n) - m * ties
    if denominator == 0:  # every judge gave every entry the same score: no ranking to agree on
        return None
    return 12.0 * s / denominator


def krippendorff_alpha_interval(units: Iterable[Sequence[float]]) -> float | None:
    """Krippendorff's alpha with the interval metric, for incomplete designs.

    ``units`` holds, per entry, the values the judges who scored it gave (any number). Entries with fewer
    than two values are not pairable and are left out. alpha = 1 − D_o / D_e, where D_o is the mean squared
    difference within entries and D_e the mean squared difference across all pairable values.
    """
    pairable = [np.asarray(u, dtype=float) for u in units if len(u) >= 2]
    if not pairable:
        return None
    n = sum(len(u) for u in pairable)
    observed = 0.0
    for u in pairable:
        diffs = (u[:, None] - u[None, :]) ** 2
        observed += diffs.sum() / (len(u) - 1)
    observed /= n
    every = np.concatenate(pairable)
    expected = float(((every[:, None] - every[None, :]) ** 2).sum()) / (n * (n - 1))
    if expected == 0:
        return None
    return 1.0 - observed / expected


@dataclass(frozen=True)
class Agreement:
    kendall_w: float | None
    kendall_judges: int
    kendall_entries: int
    krippendorff_alpha: float | None


def agreement(totals_by_judge: Mapping[JudgeId, Mapping[EntryId, float]]) -> Agreement:
    """Kendall's W on the complete block (judges who scored every entry that all of them scored) and
    Krippendorff's alpha on every score, which tolerates judges who scored only some entries."""
    judges = [j for j, t in totals_by_judge.items() if t]
    common: set[EntryId] = set.intersection(*(set(totals_by_judge[j]) for j in judges)) if judges else set()
    entries = sorted(common)
    w = kendall_w([[totals_by_judge[j][e] for e in entries] for j in judges]) if entries else None
    by_entry: dict[EntryId, list[float]] = {}
    for j in judges:
        for e, v in totals_by_judge[j].items():
            by_entry.setdefault(e, []).append(float(v))
    return Agreement(kendall_w=w, kendall_judges=len(judges) if entries else 0, kendall_entries=len(entries),
                     krippendorff_alpha=krippendorff_alpha_interval(by_entry.values()))
