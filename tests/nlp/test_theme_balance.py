"""Asked for few themes, uneven data still gives one theme per real topic: the dominant topic is not cut in
pieces while the mid and small topics share a theme, and templates and English snippets take none."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from nlp import ThemeModel
from nlp.merge import merge_clusters

from .corpus import uneven_corpus

TOPICS = ("electricity", "passport", "hospital")


@pytest.fixture(scope="module")
def three_themes():
    texts, truth = uneven_corpus()  # 300 / 90 / 30 topic texts, 40 English one-liners, 20 templates
    return truth, ThemeModel(n_themes=3, random_state=0).fit(texts)


def test_each_real_topic_has_its_own_theme_at_k_3(three_themes) -> None:
    # Before merging, spectral clustering at k=3 cut electricity in three and put passport, hospital
    # and the templates in one theme (NMI 0.366).
    truth, model = three_themes
    regular = [t for t in model.themes_ if not t.other]
    assert len(regular) == 3
    members = {t.id: Counter() for t in model.themes_}
    for topic, label in zip(truth, model.labels_, strict=True):
        members[label][topic] += 1
    owners = {}
    for theme in regular:
        topic, n = members[theme.id].most_common(1)[0]
        assert n >= 0.95 * theme.size, (theme.label, members[theme.id])  # purity
        owners[topic] = theme.id
    assert set(owners) == set(TOPICS)  # one theme per topic, none left without
    for topic, theme_id in owners.items():
        assert members[theme_id][topic] >= 0.95 * truth.count(topic), (topic, members[theme_id])


def test_templates_and_snippets_take_no_theme_at_k_3(three_themes) -> None:
    truth, model = three_themes
    other = [t for t in model.themes_ if t.other]
    assert len(other) == 1
    placed = Counter(label for topic, label in zip(truth, model.labels_, strict=True) if topic in ("english", "template"))
    assert placed[other[0].id] >= 0.9 * sum(placed.values()), placed


def test_merging_joins_the_most_similar_texts_first() -> None:
    # Two fine clusters of one topic (a, a') close together, a second topic b, and a far, small template t.
    rng = np.random.default_rng(0)
    axes = np.eye(8)
    def around(direction, n):
        rows = direction + 0.15 * rng.standard_normal((n, 8))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    a1 = around(axes[0] + 0.8 * axes[1], 40)
    a2 = around(axes[0] + 0.8 * axes[2], 40)
    b = around(axes[3], 30)
    t = around(axes[4] + axes[5], 8)
    x = np.vstack([a1, a2, b, t]).astype(np.float32)
    fine = np.repeat([0, 1, 2, 3], [40, 40, 30, 8])
    merged = merge_clusters(x, fine, 2)
    assert len(set(merged[:80])) == 1 and len(set(merged[80:110])) == 1 and merged[0] != merged[80]
    assert (merged[110:] == -1).all()  # the template is set aside, not merged into a topic
    # Never fewer themes than asked for: with k=3 the template may keep a theme rather than vanish.
    assert len(set(merge_clusters(x, fine, 4).tolist())) == 4
    assert sorted(set(merge_clusters(x, fine, 3).tolist()) - {-1}) == [0, 1, 2]


def test_texts_in_a_form_are_recognised() -> None:
    from nlp.normalize import normalize
    from nlp.themes.groups import form_texts, set_aside

    forms = [f"الإيجابيات: {a} السلبيات: {b}" for a, b in [("السرعة", "السعر"), ("لا يوجد", "الانتظار"),
                                                          ("التعامل", "لا يوجد"), ("النظافة", "الزحام")]]
    plain = [f"الموعد في المستشفى رقم {i} انلغى الساعة 10:30 بدون إشعار" for i in range(30)]
    texts = [normalize(t) for t in forms + plain + ["ملاحظة: الفرع مغلق"]]
    assert form_texts(texts).tolist() == [True] * 4 + [False] * 31  # one label, or a clock time, is no form
    assert set_aside(texts)[:4].all() and not set_aside(texts)[4:].any()
