"""Serialization: round trips without pickle; wrong versions and garbage are rejected clearly."""

import io
import json

import numpy as np
import pytest

from nlp import ModelFormatError, SimilarityIndex, ThemeModel

from .corpus import feedback_corpus


@pytest.fixture(scope="module")
def model():
    texts, _ = feedback_corpus(per_topic=10, seed=2)
    return ThemeModel(n_themes=5, random_state=0).fit(texts, ids=[f"fb-{i}" for i in range(len(texts))])


def test_theme_model_round_trip(model):
    blob = model.to_bytes()
    assert isinstance(blob, bytes)
    loaded = ThemeModel.from_bytes(blob)
    assert loaded.labels_ == model.labels_
    assert [(t.id, t.label, t.keywords, t.size) for t in loaded.themes_] == [
        (t.id, t.label, t.keywords, t.size) for t in model.themes_
    ]
    assert loaded.themes_[0].representative_ids
    for text in ["فاتورة الكهرباء عالية", "تجديد الجواز", "لا علاقة"]:
        a, b = model.assign(text), loaded.assign(text)
        assert a[0] == b[0] and abs(a[1] - b[1]) < 1e-2
    # the loaded model can be the "previous" of a re-fit
    texts, _ = feedback_corpus(per_topic=10, seed=2)
    again = ThemeModel(n_themes=5, random_state=0).fit(texts, previous=loaded)
    assert {t.id for t in again.themes_} == {t.id for t in model.themes_}
    # no pickle anywhere in the archive
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)


def _with_version(blob: bytes, version: int) -> bytes:
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["version"] = version
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_rejects_wrong_version_and_garbage(model):
    with pytest.raises(ModelFormatError, match="version 99"):
        ThemeModel.from_bytes(_with_version(model.to_bytes(), 99))
    for bad in [b"", b"garbage bytes", b"PK\x03\x04broken"]:
        with pytest.raises(ModelFormatError, match="not a serialized"):
            ThemeModel.from_bytes(bad)
    index = SimilarityIndex().fit(["a"], ["نص"])
    with pytest.raises(ModelFormatError, match=r"expected a nlp\.ThemeModel"):
        ThemeModel.from_bytes(index.to_bytes())


def test_similarity_round_trip():
    texts, _ = feedback_corpus(per_topic=4, seed=3)
    index = SimilarityIndex().fit(list(range(len(texts))), texts)
    loaded = SimilarityIndex.from_bytes(index.to_bytes())
    assert loaded.query("فاتورة الكهرباء", k=3) == index.query("فاتورة الكهرباء", k=3)
    loaded.add([1000], ["الموقع بطيء جدا"])
    assert loaded.query("الموقع بطيء", k=1)[0][0] == 1000
