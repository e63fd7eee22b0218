"""Theme names: a short phrase taken from the theme's own texts, never a filler.

Each candidate is a run of 1-4 consecutive words of a member text (in the spelling people wrote):
it starts and ends with a content word, holds at most one function word inside ("رسوم على التحويل")
and no filler (politeness and religious formulas, request verbs, dialect function words and filler
verbs: nlp/resources/name_fillers.txt). Runs are counted once per text and grouped by their stems, so
"البطاقة" and "بطاقتي" count together. A phrase scores sqrt(coverage) (share of the theme's texts
holding it) times precision (share of all texts holding it that are in the theme), times a bonus per
extra word: the name is what the theme says and other themes do not. Against the gold intent names of
ArBanking77 (share of names with a content word of the intent), sqrt(coverage) with these bonuses beat
coverage x precision on three partitions: msa_test tfidf 0.60 -> 0.71, msa_test hybrid 0.65 -> 0.70,
a 5,000-text sample of the MSA + Palestinian train set 0.57 -> 0.69. Everything is counted in
a fixed order of the texts, and ties fall to the alphabetically first phrase, so the same texts always
give the same names; a previous name is kept while it still scores near the best.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources

from nlp.normalize import normalize
from nlp.terms import display_tokens, term_key

__all__ = ["content_keys", "filler_in", "fillers", "phrase_names"]

MAX_WORDS = 4
# Longer phrases read better as names ("تأخر وصول رمز التحقق" over "رمز التحقق") when about as common.
LENGTH_BONUS = {1: 0.4, 2: 1.0, 3: 1.2, 4: 1.3}
KEEP_PREVIOUS = 0.8  # a previous name stays while it scores at least this share of the best


@cache
def fillers() -> frozenset[str]:
    """Normalized words that never appear in a name."""
    text = resources.files("nlp.resources").joinpath("name_fillers.txt").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.update(normalize(line).split())
    return frozenset(words)


def _is_filler(norm: str) -> bool:
    if norm in fillers():
        return True
    # a filler with a glued conjunction or preposition ("والله", "وبدي") is a filler too
    return len(norm) > 3 and norm[0] in "وفبل" and norm[1:] in fillers()


def filler_in(text: str) -> bool:
    """True when a name holds a filler word."""
    return any(_is_filler(normalize(tok)) for tok in display_tokens(text))


def content_keys(text: str) -> list[str]:
    """Stems of the content words of a text (fillers and function words dropped)."""
    out = []
    for tok in display_tokens(text):
        key = term_key(tok)
        if key is not None and not _is_filler(normalize(tok)):
            out.append(key)
    return out


@lru_cache(maxsize=200_000)
def _word(tok: str) -> tuple[str, str, bool] | None:
    """(surface, key, is a content word) of one readable token, or None when it breaks a phrase (a number,
    nothing left after normalization, a filler). Cached: tokens repeat (Zipf) and normalizing each
    occurrence was a third of naming the themes of 10k texts."""
    norm = normalize(tok)
    if not norm or norm.isdigit() or _is_filler(norm):
        return None
    key = term_key(tok)
    return (tok, key if key is not None else norm, key is not None)


def _candidates(text: str) -> dict[tuple[str, ...], str]:
    """Phrase key (stems; function words as written) -> surface form, for the runs of one text."""
    words = [_word(tok) for tok in display_tokens(text)]
    out: dict[tuple[str, ...], str] = {}
    for i, first in enumerate(words):
        if first is None or not first[2]:
            continue
        inner_stop = 0
        for n in range(1, MAX_WORDS + 1):
            j = i + n - 1
            if j >= len(words) or words[j] is None:
                break
            if not words[j][2]:
                inner_stop += 1
                if inner_stop > 1:
                    break
                continue  # a phrase never ends on a function word
            span = words[i : j + 1]
            key = tuple(w[1] for w in span)
            out.setdefault(key, " ".join(w[0] for w in span))
    return out


def phrase_names(
    groups: Sequence[Sequence[str]],
    previous: Sequence[str | None] | None = None,
) -> list[str]:
    """One name per group of texts (texts of one theme, in a fixed order); "" when no phrase exists.

    ``previous``: the group's earlier name (or None); kept when it still scores near the best.
    Two groups never get the same name: the larger group chooses first.
    """
    df: list[Counter] = []
    surfaces: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for texts in groups:
        counts: Counter = Counter()
        for text in texts:
            for key, surface in _candidates(text).items():
                counts[key] += 1
                surfaces[key][surface] += 1
        df.append(counts)
        total.update(counts)
    scored: list[list[tuple[float, str, tuple[str, ...]]]] = []
    for g, counts in enumerate(df):
        n = max(len(groups[g]), 1)
        min_count = 2 if n >= 4 else 1
        ranked = []
        for key, c in counts.items():
            if c < min_count:
                continue
            score = (c / n) ** 0.5 * (c / total[key]) * LENGTH_BONUS[len(key)]
            ranked.append((score, _surface(surfaces[key]), key))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        scored.append(ranked)
    names = [""] * len(groups)
    used: set[tuple[str, ...]] = set()
    for g in sorted(range(len(groups)), key=lambda i: (-len(groups[i]), i)):
        ranked = [r for r in scored[g] if r[2] not in used]
        if not ranked:
            continue
        choice = ranked[0]
        old = previous[g] if previous is not None else None
        if old:
            old_key = tuple(_phrase_key(old))
            for r in ranked:
                if r[2] == old_key and r[0] >= KEEP_PREVIOUS * choice[0]:
                    choice = r
                    break
        used.add(choice[2])
        names[g] = choice[1]
    return names


def _phrase_key(text: str) -> list[str]:
    out = []
    for tok in display_tokens(text):
        key = term_key(tok)
        out.append(key if key is not None else normalize(tok))
    return out


def _surface(forms: Counter) -> str:
    """The most frequent spelling of a phrase; ties: the alphabetically first."""
    top = max(forms.values())
    return min(f for f, c in forms.items() if c == top)

