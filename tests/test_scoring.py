"""Judging arithmetic: weighted totals, per-judge z-scores, ranking and tie-break, Kendall's W, Krippendorff's alpha."""

from __future__ import annotations

import math

import pytest

from voice.awards.scoring import (
    CriterionSpec,
    EntryResult,
    agreement,
    entry_results,
    kendall_w,
    krippendorff_alpha_interval,
    rank,
    weighted_total,
    zscores,
)


def test_weighted_total_brings_each_criterion_to_its_own_scale() -> None:
    criteria = [CriterionSpec(1, 3, 10), CriterionSpec(2, 1, 5)]
    # (3·8/10 + 1·5/5) / 4 × 100 = (2.4 + 1) / 4 × 100 = 85
    assert weighted_total({1: 8, 2: 5}, criteria) == pytest.approx(85.0)
    assert weighted_total({1: 8}, criteria) == pytest.approx(60.0)  # an unscored criterion counts as 0
    assert weighted_total({}, []) == 0.0


def test_zscores_use_the_sample_standard_deviation() -> None:
    z = zscores({1: 20.0, 2: 40.0, 3: 60.0})
    # mean 40, sample std = sqrt((400 + 0 + 400) / 2) = 20
    assert z == pytest.approx({1: -1.0, 2: 0.0, 3: 1.0})
    assert zscores({1: 50.0, 2: 50.0}) == {1: 0.0, 2: 0.0}  # std 0 → all 0
    assert zscores({7: 90.0}) == {7: 0.0}  # a single entry cannot be standardized


def test_normalization_fixes_a_ranking_raw_means_get_wrong() -> None:
    # Strict judge S saw only A and B; lenient judge L saw only B and C.
    #   S: A = 20, B = 40      L: B = 80, C = 70
    # Raw means: A 20, B 60, C 70 → C first, although the only judge who saw both B and C preferred B.
    # z per judge (two values each, sample std = |difference| / √2): S → A −0.707, B +0.707;
    # L → B +0.707, C −0.707. Means: A −0.707, B +0.707, C −0.707 → B first; A and C tie on z and the
    # stated tie-break (higher mean raw score) puts C (70) before A (20).
    a, b, c = 1, 2, 3
    results = entry_results({"S": {a: 20.0, b: 40.0}, "L": {b: 80.0, c: 70.0}})
    by_raw = sorted(results, key=lambda r: -r.mean_raw)
    assert [r.entry_id for r in by_raw] == [c, b, a]
    ranked = rank(results)
    assert [r.entry_id for r in ranked] == [b, c, a]
    top = ranked[0]
    assert top.mean_raw == pytest.approx(60.0) and top.n_judges == 2
    assert top.final_score == pytest.approx(1 / math.sqrt(2)) and top.spread == pytest.approx(0.0)


def test_tie_break_is_raw_then_judges_then_entry_id() -> None:
    rows = [EntryResult(5, 60, 0.0, 0, 2), EntryResult(4, 70, 0.0, 0, 2), EntryResult(3, 70, 0.0, 0, 3),
            EntryResult(2, 70, 0.0, 0, 3)]
    assert [r.entry_id for r in rank(rows)] == [2, 3, 4, 5]


def test_kendall_w_perfect_and_reversed() -> None:
    assert kendall_w([[1, 2, 3, 4], [10, 20, 30, 40], [5, 6, 7, 8]]) == pytest.approx(1.0)
    assert kendall_w([[1, 2, 3], [3, 2, 1]]) == pytest.approx(0.0)
    assert kendall_w([[1, 2, 3]]) is None


def test_kendall_w_hand_computed() -> None:
    # 3 judges, 4 entries, ranks (1 = lowest): J1 1,2,3,4  J2 2,1,3,4  J3 1,3,2,4.
    # Rank sums 4, 6, 8, 12; mean m(n+1)/2 = 7.5; S = 3.5² + 1.5² + 0.5² + 4.5² = 35.
    # W = 12·35 / (3²·(4³ − 4)) = 420 / 540 = 7/9.
    assert kendall_w([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]]) == pytest.approx(7 / 9)


def test_kendall_w_tie_correction() -> None:
    # J1 ranks 1, 2, 3; J2 gives the first two the same score → ranks 1.5, 1.5, 3.
    # Rank sums 2.5, 3.5, 6; mean 4; S = 1.5² + 0.5² + 2² = 6.5. One tie of 2 → T = 2³ − 2 = 6.
    # W = 12·6.5 / (2²·(3³ − 3) − 2·6) = 78 / 84 = 13/14 (without the correction: 78/96).
    assert kendall_w([[1, 2, 3], [7, 7, 9]]) == pytest.approx(13 / 14)


def test_krippendorff_alpha_interval() -> None:
    # Units {1, 2} and {3, 4}: D_o = (2 + 2) / 4 = 1; D_e = 40 / 12; alpha = 1 − 12/40 = 0.7.
    assert krippendorff_alpha_interval([[1, 2], [3, 4]]) == pytest.approx(0.7)
    assert krippendorff_alpha_interval([[5, 5], [8, 8, 8], [2]]) == pytest.approx(1.0)
    assert krippendorff_alpha_interval([[3]]) is None


def test_agreement_uses_the_complete_block_for_w() -> None:
    totals = {"a": {1: 10.0, 2: 20.0, 3: 30.0}, "b": {1: 15.0, 2: 25.0, 3: 35.0, 4: 99.0}}
    result = agreement(totals)
    assert result.kendall_w == pytest.approx(1.0) and result.kendall_entries == 3 and result.kendall_judges == 2
    assert result.krippendorff_alpha == pytest.approx(6 / 7)
