"""SimilarityIndex: paraphrases rank above unrelated texts; incremental adds; replacing an id."""

import pytest

from nlp import SimilarityIndex, get_encoder

IDEAS = {
    1: "اقترح إضافة خدمة تجديد رخصة القيادة إلكترونيا بدون زيارة المرور",
    2: "تطبيق الجوال يحتاج وضع ليلي لراحة العين",
    3: "توفير موعد مسائي في الأحوال المدنية للموظفين",
    4: "ربط فواتير الكهرباء بتنبيه قبل موعد السداد",
    5: "إتاحة دفع المخالفات المرورية بالتقسيط",
}
PARAPHRASE = ("ليش ما يكون تجديد الرخصة اونلاين بدل ما اروح للمرور", 1)


@pytest.mark.parametrize("method", ["tfidf", "hybrid", "semantic"])
def test_paraphrase_ranks_above_unrelated(method):
    if method != "tfidf":
        assert get_encoder("e5") is not None, "the embeddings extra is installed in the test env"
    index = SimilarityIndex(method=method).fit(list(IDEAS), list(IDEAS.values()))
    results = index.query(PARAPHRASE[0], k=5)
    assert results[0][0] == PARAPHRASE[1]
    assert results[0][1] > results[-1][1]


def test_add_incrementally_and_replace():
    index = SimilarityIndex().fit([1, 2, 3], [IDEAS[1], IDEAS[2], IDEAS[3]])
    index.add([4, 5], [IDEAS[4], IDEAS[5]])
    assert len(index) == 5
    assert index.query("تقسيط المخالفات المرورية", k=1)[0][0] == 5
    index.add([5], ["وضع ليلي في تطبيق الجوال"])  # the idea was edited: its id now means the new text
    assert len(index) == 5
    top = index.query("تقسيط المخالفات المرورية", k=5)
    assert top[0][0] != 5 or top[0][1] < 0.2
    assert {i for i, _ in index.query("الوضع الليلي للتطبيق", k=2)} == {2, 5}
    assert all(i != 1 for i, _ in index.query("تجديد رخصة القيادة", k=4, exclude=1))


def test_empty_inputs():
    index = SimilarityIndex().fit([], [])
    assert index.query("أي شيء") == []
    index.add(["a"], ["الكهرباء مقطوعة"])
    assert index.query("انقطاع الكهرباء")[0][0] == "a"
    assert index.query("   ") == []
