"""Uneven data does not collapse into one theme; fine themes sit under a number of top-level themes a
person can triage; texts with nothing to cluster go to an "other" theme."""

from __future__ import annotations

from collections import Counter

import pytest

from nlp import ThemeModel
from nlp.normalize import normalize
from nlp.themes.groups import MAX_GROUPS, n_groups_for, set_aside

from .corpus import feedback_corpus, uneven_corpus

TOPICS = ("electricity", "passport", "hospital")


@pytest.fixture(scope="module")
def uneven():
    texts, truth = uneven_corpus()
    return texts, truth, ThemeModel(random_state=0).fit(texts)


def by_theme(truth, labels) -> dict:
    out: dict = {}
    for topic, label in zip(truth, labels, strict=True):
        out.setdefault(label, Counter())[topic] += 1
    return out


def test_every_topic_of_uneven_data_gets_its_own_themes(uneven) -> None:
    # 300 / 90 / 30 texts, 40 English one-liners, 20 pros/cons templates. Before the spectral step was
    # regularized, the small topic had no theme: it shared one with parts of the others.
    _texts, truth, model = uneven
    contents = by_theme(truth, model.labels_)
    for theme_id, counts in contents.items():
        if model.theme(theme_id).other:  # the "other" bucket holds the snippets and the templates
            assert set(counts) <= {"english", "template"}, counts
            continue
        topic, n = counts.most_common(1)[0]
        assert n >= 0.9 * sum(counts.values()), (theme_id, counts)  # no theme mixes topics
    for topic in TOPICS:
        held = sum(n for counts in contents.values() for t, n in counts.items() if t == topic
                   and counts.most_common(1)[0][0] == topic)
        assert held >= 0.9 * truth.count(topic), topic  # the topic's texts lead their themes
    # the English one-liners are one theme, the "other" bucket, not a real topic's theme
    english = {lab for t, lab in zip(truth, model.labels_, strict=True) if t == "english"}
    assert len(english) == 1 and model.theme(english.pop()).other
    assert sum(t.other for t in model.themes_) == 1


def test_top_level_themes_keep_each_topic_together(uneven) -> None:
    texts, truth, model = uneven
    assert len(model.groups_) <= MAX_GROUPS
    parent = {t.id: t.parent for t in model.themes_}
    assert set(parent.values()) == {g.id for g in model.groups_}
    assert sorted(i for g in model.groups_ for i in g.children) == sorted(parent)
    assert sum(g.size for g in model.groups_) == len(texts)
    # a topic split into several fine themes is (mostly) one top-level theme
    for topic in ("passport", "hospital"):
        groups = Counter(parent[lab] for t, lab in zip(truth, model.labels_, strict=True) if t == topic)
        assert groups.most_common(1)[0][1] >= 0.8 * truth.count(topic), (topic, groups)
    other = [g for g in model.groups_ if g.other]
    assert len(other) == 1 and all(model.theme(i).other for i in other[0].children)
    for group in model.groups_:
        assert group.label


def test_groups_survive_saving_and_edits(uneven) -> None:
    _texts, _truth, model = uneven
    restored = ThemeModel.from_bytes(model.to_bytes())
    assert [(g.id, g.label, g.children) for g in restored.groups_] == [
        (g.id, g.label, g.children) for g in model.groups_
    ]
    group = max(restored.groups_, key=lambda g: len(g.children))
    a, b = group.children[:2]
    restored.merge(a, b)
    assert b not in {i for g in restored.groups_ for i in g.children}
    assert sum(g.size for g in restored.groups_) == sum(t.size for t in restored.themes_)


def test_number_of_top_level_themes() -> None:
    assert [n_groups_for(k) for k in (1, 5, 6, 20, 77, 119, 400)] == [1, 5, 6, 6, 12, 15, 15]


def test_small_corpus_themes_are_their_own_top_level_themes() -> None:
    texts, _ = feedback_corpus(per_topic=14, seed=1)
    model = ThemeModel(n_themes=5, random_state=0).fit(texts)
    assert len(model.groups_) == 5
    assert all(len(g.children) == 1 and g.label == model.theme(g.children[0]).label for g in model.groups_)
    assert not any(t.other for t in model.themes_)  # nothing is set aside in a clean corpus


def test_what_is_set_aside() -> None:
    arabic = [f"الخدمة رقم {i} لا تعمل في التطبيق" for i in range(30)]
    texts = [*arabic, "good service", "شكرا", "👍", "thanks a lot"]
    aside = set_aside([normalize(t) for t in texts])
    assert aside.tolist() == [False] * 30 + [True] * 4
    # a corpus that is half English is not "Arabic with English snippets": nothing set aside by script
    mixed = arabic + [f"the app crashes on screen {i}" for i in range(30)]
    assert not set_aside([normalize(t) for t in mixed]).any()
    assert not set_aside([normalize(t) for t in texts[:10]]).any()  # too few texts to tell
