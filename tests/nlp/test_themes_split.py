"""Splitting a theme in two keeps one id, adds one, and both halves take new texts afterwards."""

from __future__ import annotations

import pytest

from nlp import ModelFormatError, ThemeModel  # noqa: F401

OTP = ["رمز التحقق لا يصل إلى جوالي", "لم يصلني رمز التحقق", "رسالة رمز التحقق تتأخر كثيرا", "ما وصلني كود التحقق"]
PAY = ["تم خصم الرسوم مرتين من البطاقة", "خصم المبلغ مرتين عند الدفع", "دفعت الرسوم مرتين", "سحب المبلغ مرتين"]
SLOTS = ["لا توجد مواعيد متاحة في الفرع", "المواعيد ممتلئة دائما", "لا أجد موعدا للحجز", "حجز موعد مستحيل"]


def test_split_a_theme_in_two() -> None:
    model = ThemeModel(n_themes=2, random_state=0).fit(OTP + PAY + SLOTS)
    # Find the theme holding both the OTP and payment texts (two topics in one theme).
    mixed = max(model.themes_, key=lambda t: t.size)
    members = [t for t, label in zip(OTP + PAY + SLOTS, model.labels_, strict=True) if label == mixed.id]
    new_id = model.split(mixed.id, members)
    assert new_id not in {mixed.id} and new_id in {t.id for t in model.themes_}
    assert len(model.themes_) == 3
    a = {model.assign(t)[0] for t in members}
    assert a == {mixed.id, new_id}  # members now go to one half or the other
    restored = ThemeModel.from_bytes(model.to_bytes())
    assert {t.id for t in restored.themes_} == {t.id for t in model.themes_}


def test_split_refuses_fewer_than_two_texts() -> None:
    model = ThemeModel(n_themes=2, random_state=0).fit(OTP + PAY)
    with pytest.raises(ValueError):
        model.split(model.themes_[0].id, ["نص واحد"])
