"""What stored vectors save a theme refresh: a fit that encodes every text (before: each refresh
re-encoded everything) against the same fit when all but the newest texts' vectors are stored (now:
voice.themes.vectors hands them to the encoder through nlp.embeddings.stored_vectors).

Texts: real Arabic customer messages (shared/data/arbanking77), the newest ``--new`` of ``--size``.
The store here is in memory, so the numbers are the encoding saved; reading 10k stored vectors from
PostgreSQL is measured by ``--db URL`` (optional).

Usage:  [ARBANKING_CSV=path] PYTHONPATH=src .venv/bin/python bench/refresh_vectors_bench.py [--size 2000] [--new 200] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp import ThemeModel
from nlp.embeddings import stored_vectors

SOURCE = Path(os.environ.get("ARBANKING_CSV", Path(__file__).resolve().parents[2] / "shared" / "data" / "arbanking77"
                             / "msa_pal_train.csv"))


class MemoryStore:
    def __init__(self) -> None:
        self.vectors: dict[tuple[str, str], np.ndarray] = {}
        self.saved = 0

    def lookup(self, encoder: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        return [self.vectors.get((encoder, t)) for t in texts]

    def save(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.saved += len(texts)
        self.vectors.update(((encoder, t), v) for t, v in zip(texts, vectors, strict=True))


def texts(size: int) -> list[str]:
    with SOURCE.open(encoding="utf-8") as f:
        rows = [r[0] for r in csv.reader(f)][1:]
    return list(dict.fromkeys(rows))[:size]


def fit(corpus: list[str], store: MemoryStore | None, previous: ThemeModel | None = None) -> tuple[float, ThemeModel]:
    start = time.perf_counter()
    model = ThemeModel(method="auto", random_state=0)
    if store is None:
        model.fit(corpus, previous=previous)
    else:
        with stored_vectors(store):
            model.fit(corpus, previous=previous)
    return time.perf_counter() - start, model


async def db_read(url: str, n: int) -> float:
    """Seconds to read ``n`` stored 384-d vectors back from the text_embedding table of ``url``."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from voice.db import asyncpg_url
    from voice.themes.vectors import load, store

    engine = create_async_engine(asyncpg_url(url))
    rng = np.random.default_rng(0)
    async with async_sessionmaker(engine)() as session:
        base = 10**9
        await store(session, "bench", "e5", {base + i: rng.standard_normal(384).astype(np.float32) for i in range(n)})
        await session.commit()
        start = time.perf_counter()
        await load(session, "bench", "e5", list(range(base, base + n)))
        took = time.perf_counter() - start
        from sqlalchemy import text

        await session.execute(text("DELETE FROM text_embedding WHERE kind = 'bench'"))
        await session.commit()
    await engine.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--new", type=int, default=200)
    parser.add_argument("--db", default=None, help="a migrated Voice database, to time reading stored vectors")
    args = parser.parse_args()
    corpus = texts(args.size)
    old, new = corpus[: -args.new], corpus
    store = MemoryStore()
    first, previous = fit(old, store)  # the previous night's refresh, storing what it encodes
    print(f"{len(old)} texts, first fit (encodes all, stores them): {first:.1f} s")
    before, _ = fit(new, None, previous)
    saved_before = store.saved
    after, model = fit(new, store, previous)
    print(f"{len(new)} texts ({args.new} new), method {model.method_}:")
    print(f"  refresh encoding every text (before): {before:.1f} s")
    print(f"  refresh with stored vectors (now):    {after:.1f} s, encoded {store.saved - saved_before} texts")
    if args.db:
        print(f"  reading {len(new)} stored vectors from PostgreSQL: {asyncio.run(db_read(args.db, len(new))):.2f} s")


if __name__ == "__main__":
    main()
