"""Theme names: a phrase taken from the theme's texts, without fillers, the same on every re-run."""

from __future__ import annotations

from collections import Counter

from nlp import ThemeModel
from nlp.normalize import normalize
from nlp.terms import display_tokens
from nlp.themes.phrases import content_keys, filler_in, phrase_names

from .corpus import feedback_corpus

# The topic words a reader expects in each topic's name (normalized stems of the corpus's sentences).
TOPIC_WORDS = {
    "passport": {"جواز", "تجديد", "جوازات"},
    "login": {"تسجيل", "دخول", "رمز", "تحقق", "مرور"},
    "traffic": {"مخالف", "مرور", "مروري"},
    "hospital": {"مستشف", "موعد", "مواعيد"},
    "electricity": {"كهرب", "فاتور"},
}


def words(text: str) -> str:
    return " " + " ".join(normalize(tok) for tok in display_tokens(text)) + " "


def test_names_are_phrases_from_the_theme_without_fillers() -> None:
    # Every text carries a courtesy or religious formula; none of it may reach a name.
    texts, truth = feedback_corpus(per_topic=14, seed=1)
    model = ThemeModel(n_themes=5, random_state=0).fit(texts)
    majority = {}
    for theme in model.themes_:
        members = [t for t, lab in zip(texts, model.labels_, strict=True) if lab == theme.id]
        topic = Counter(tr for tr, lab in zip(truth, model.labels_, strict=True) if lab == theme.id).most_common(1)
        majority[theme.id] = topic[0][0]
        assert not filler_in(theme.label), theme.label
        assert 1 <= len(theme.label.split()) <= 4
        assert any(words(theme.label) in words(m) for m in members), theme.label  # found in its own texts
        # the name speaks of its topic
        assert set(content_keys(theme.label)) & TOPIC_WORDS[majority[theme.id]], theme.label
    assert len({t.label for t in model.themes_}) == len(model.themes_)  # no two themes share a name


def test_dialect_fillers_never_name_a_theme() -> None:
    groups = [
        [
            "الله يعطيكم العافية سويت تحويل ولقيت المبلغ ما وصل",
            "سويت تحويل للمبلغ وما وصل الله يعافيكم",
            "لو سمحت التحويل ما وصل لحسابي",
            "بدي أشوف ليش التحويل ما وصل",
            "عايز أعرف ازاي التحويل ما وصل",
        ],
        [
            "ما وصلني رمز التحقق أبي أسجل",
            "رمز التحقق ما يوصل على الجوال",
            "بغيت نعرف علاش رمز التحقق لا يصل",
            "السلام عليكم رمز التحقق متأخر",
        ],
    ]
    names = phrase_names(groups)
    assert names == ["التحويل ما وصل", "رمز التحقق"]
    for name in names:
        assert not filler_in(name)
    assert filler_in("الله يعطيكم العافية") and filler_in("سويت") and filler_in("لقيت") and filler_in("أشوف")
    assert filler_in("ال")


def test_names_do_not_depend_on_the_order_of_the_texts() -> None:
    texts, _ = feedback_corpus(per_topic=10, seed=4)
    groups = [texts[i::5] for i in range(5)]
    assert phrase_names(groups) == phrase_names([list(reversed(g)) for g in groups])


def test_names_stay_put_when_a_refresh_sees_the_same_items() -> None:
    texts, _ = feedback_corpus(per_topic=14, seed=2)
    first = ThemeModel(n_themes=5, random_state=0).fit(texts)
    again = ThemeModel(n_themes=5, random_state=0).fit(texts, previous=first)
    assert {t.id: t.label for t in again.themes_} == {t.id: t.label for t in first.themes_}
    # a few new items do not rename a theme whose name still describes it
    more, _ = feedback_corpus(per_topic=2, seed=9)
    grown = ThemeModel(n_themes=5, random_state=0).fit(texts + more, previous=first)
    same = sum(grown.theme(t.id).label == t.label for t in first.themes_ if t.id in {g.id for g in grown.themes_})
    assert same >= 4


def test_previous_name_is_kept_while_it_scores_near_the_best() -> None:
    group = ["رمز التحقق لا يصل", "رمز التحقق متأخر", "لم يصل رمز التحقق إلى الجوال", "الجوال لا يستقبل رمز التحقق"]
    best = phrase_names([group])[0]
    assert best == "رمز التحقق"
    # "الجوال" is in two of four texts: far below the best, so a stale name does not stick
    assert phrase_names([group], previous=["الجوال"]) == ["رمز التحقق"]
    # a previous name nearly as good as the best stays: "تأخر رمز التحقق" (4 of 5 texts, three words)
    # now scores a little above "رمز التحقق" (5 of 5), and the earlier "رمز التحقق" is kept
    group = [*group[:3], "تأخر رمز التحقق اليوم", "تأخر رمز التحقق كثيرا"]
    group = ["تأخر " + t if not t.startswith("تأخر") and i < 2 else t for i, t in enumerate(group)]
    assert phrase_names([group]) == ["تأخر رمز التحقق"]
    assert phrase_names([group], previous=["رمز التحقق"]) == ["رمز التحقق"]
