"""ThemeModel.extend: new texts join their themes or found a new one; the texts already held keep theirs."""

from collections import Counter

import pytest

from nlp import ThemeModel

from .corpus import feedback_corpus


@pytest.fixture(scope="module")
def corpus():
    return feedback_corpus(per_topic=14, seed=1)


def held_out(corpus, topic: str):
    texts, truth = corpus
    keep = [i for i, lab in enumerate(truth) if lab != topic]
    return [texts[i] for i in keep], [truth[i] for i in keep], keep


def test_new_texts_join_their_themes_and_old_ones_keep_theirs(corpus):
    texts, truth = corpus
    first_n = 50
    model = ThemeModel(n_themes=5, random_state=0).fit(texts[:first_n], ids=list(range(first_n)))
    before = dict(zip(model.ids_, model.labels_, strict=True))
    themes_before = {t.id: (t.label, t.size) for t in model.themes_}
    ids = list(range(len(texts)))
    added, labels = model.extend(texts, ids)
    assert added == ids[first_n:]  # only the texts the model did not hold
    assert {t.id for t in model.themes_} == set(themes_before)  # no new topic: no new theme
    assert all(model.labels_[i] == before[i] for i in range(first_n))  # earlier texts keep their theme
    # Each new text went to the theme that holds most of its topic's earlier texts.
    home = {topic: Counter(before[i] for i in range(first_n) if truth[i] == topic).most_common(1)[0][0]
            for topic in set(truth)}
    recorded = [model.labels_[i] for i in added]  # None: an outlier, waiting for others like it
    agree = sum(lab == home[truth[i]] for i, lab in zip(added, labels, strict=True))
    assert agree >= 0.9 * len(added)
    assert all(lab == home[truth[i]] for i, lab in zip(added, recorded, strict=True) if lab is not None)
    for t in model.themes_:  # sizes grew by the texts each theme took in
        assert t.size == themes_before[t.id][1] + recorded.count(t.id)
    assert model.extended_texts_ == len(added)


def test_a_new_topic_among_new_texts_becomes_a_new_theme(corpus):
    texts, _truth, _ = held_out(corpus, "electricity")
    model = ThemeModel(n_themes=4, random_state=0).fit(texts, ids=list(range(len(texts))))
    old_ids = {t.id for t in model.themes_}
    model.rename(model.themes_[0].id, "اسم من الموظف")
    fresh = [t for t, lab in zip(*corpus, strict=True) if lab == "electricity"]
    ids = list(range(len(texts) + len(fresh)))
    added, labels = model.extend(texts + fresh, ids)
    assert added == ids[len(texts):]
    new_ids = {t.id for t in model.themes_} - old_ids
    # The new topic makes one theme, or two (power cuts; meters and bills), never more: 14 texts.
    assert 1 <= len(new_ids) <= 2, [(t.id, t.label) for t in model.themes_]
    news = [t for t in model.themes_ if t.id in new_ids]
    # Most of the new topic's texts (a frozen TF-IDF space represents words it never saw poorly: the
    # others join old themes until a full fit, which EXTEND_UP_TO in voice.themes.services bounds).
    assert sum(labels.count(t.id) for t in news) >= 0.7 * len(fresh)
    for new in news:
        assert "الكهرباء" in new.label + " ".join(new.keywords), (new.label, new.keywords)
        assert set(new.representative_ids) <= set(added) and new.representative_ids
    new = max(news, key=lambda t: labels.count(t.id))
    assert model.themes_[0].label == "اسم من الموظف" and model.themes_[0].renamed
    [group] = [g for g in model.groups_ if new.id in g.children]  # under a top-level theme
    assert new.parent == group.id and group.size == sum(t.size for t in model.themes_ if t.id in group.children)
    # The model can assign to the new theme, and keeps what it learned through storage.
    probe = next(t for t, lab in zip(fresh, labels, strict=True) if lab == new.id)
    assert model.assign(probe)[0] == new.id
    loaded = ThemeModel.from_bytes(model.to_bytes())
    assert loaded.extended_texts_ == len(added) and loaded.ids_ == ids
    assert loaded.assign(probe)[0] == new.id


def test_few_stray_texts_wait_and_are_considered_again(corpus):
    texts, _truth, _ = held_out(corpus, "electricity")
    model = ThemeModel(n_themes=4, random_state=0).fit(texts, ids=list(range(len(texts))))
    electricity = [t for t, lab in zip(*corpus, strict=True) if lab == "electricity"]
    n = len(texts)
    added, _ = model.extend(texts + electricity[:3], list(range(n + 3)))
    assert added == [n, n + 1, n + 2]
    assert len(model.themes_) == 4  # too few to make a theme of
    waiting = [i for i in added if model.labels_[i] is None]
    assert waiting  # recorded as waiting, whatever theme they were given meanwhile
    added, _ = model.extend(texts + electricity, list(range(n + len(electricity))))
    assert set(waiting) <= set(added)  # considered again with the texts that came since
    news = {t.id for t in model.themes_[4:]}  # the topic that waited: one theme or two (see above)
    assert 1 <= len(news) <= 2 and len(model.themes_) == 4 + len(news)
    assert any(model.labels_[i] in news for i in waiting)


def test_a_full_fit_starts_counting_again(corpus):
    texts, _ = corpus
    model = ThemeModel(n_themes=5, random_state=0).fit(texts[:40], ids=list(range(40)))
    model.extend(texts[:50], list(range(50)))
    assert model.grown_since_fit(5) == pytest.approx(15 / 50)
    refit = ThemeModel(n_themes=5, random_state=0).fit(texts[:50], ids=list(range(50)), previous=model)
    assert refit.extended_texts_ == 0


def test_extend_needs_ids(corpus):
    model = ThemeModel(n_themes=5, random_state=0).fit(corpus[0][:40])
    with pytest.raises(ValueError, match="ids"):
        model.extend(corpus[0], list(range(len(corpus[0]))))
