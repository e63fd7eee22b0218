"""Normalization and tokens: a table of real Arabic cases."""

import pytest

from nlp import normalize, normalize_for_search
from nlp.terms import char_ngrams, content_terms, display_tokens, stem, tokenize

CASES = [
    # MSA with diacritics and hamzated alef
    ("أَرْغَبُ فِي تَجْدِيدِ الإِقَامَةِ", "ارغب في تجديد الاقامه"),
    # tatweel and alef maksura
    ("الخدمـــــة إلى المستفيد", "الخدمه الي المستفيد"),
    # Gulf dialect with elongation
    ("ابي اجدد الاقامة بس النظام ما يشتغل أبداااا", "ابي اجدد الاقامه بس النظام ما يشتغل ابدا"),
    # Arabic-Indic and Persian digits
    ("رقم الطلب ١٢٣٤٥ وتاريخ ۱۴۰۲", "رقم الطلب 12345 وتاريخ 1402"),
    # mixed English is lower-cased; URL, e-mail and mention masked
    (
        "Absher APP لا يعمل https://absher.sa/x راسلوني a.b@mail.com @MOI_KSA",
        "absher app لا يعمل xurlx راسلوني xemailx xmentionx",
    ),
    # bidi controls and zero-width characters removed
    ("\u202bمرحبا\u202c \u200fبكم\u200e\u200b", "مرحبا بكم"),
    # emoji kept (they carry sentiment), whitespace collapsed
    ("خدمة   ممتازة 👍\n\n", "خدمه ممتازه 👍"),
    # presentation forms and the lam-alef ligature (NFKC)
    ("ﻻ ﺷﻜﺮﺍ", "لا شكرا"),
    # Persian yeh/kaf typed on phone keyboards
    ("کیف", "كيف"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_table(raw, expected):
    assert normalize(raw) == expected


def test_normalize_returns_new_string_and_is_idempotent():
    text = "الإِقامةُ ١٢"
    out = normalize(text)
    assert text == "الإِقامةُ ١٢"
    assert normalize(out) == out
    assert normalize_for_search(text) == out


def test_tokens_stopwords_and_stems():
    text = "لم تصل بطاقتي الجديدة، وين البطاقة؟ my card didn't arrive"
    assert "بطاقتي" in tokenize(text)
    terms = content_terms(text)
    assert "لم" not in terms and "وين" not in terms  # MSA and Gulf stop words
    assert stem(normalize("بطاقتي")) == stem(normalize("البطاقة")) == stem(normalize("بطاقات"))
    assert "البطاقة" in display_tokens(text)  # readable spelling kept for labels


def test_char_ngrams_word_bounded():
    grams = char_ngrams("باب", 2, 3)
    assert " ب" in grams and "اب " in grams and all(" " not in g.strip() for g in grams)
