"""Sentence vectors of bench texts, computed once per encoder and kept in a cache file.

Seeding 10,000 stored items with their vectors would otherwise encode 10,000 texts on every run (minutes
with e5 on a busy 2-core machine). The cache (``BENCH_VECTOR_CACHE``, default /tmp/voice_bench_vectors)
holds the encoder's own output per text, so a seeded database is what the encoding job would have stored.

    PYTHONPATH=src python bench/_vectors.py [--encoder e5] [--count 10400]   # fill the cache ahead of a run
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CACHE = Path(os.environ.get("BENCH_VECTOR_CACHE", "/tmp/voice_bench_vectors"))  # noqa: S108 - a cache, any user
ARBANKING = Path(os.environ.get("ARBANKING_CSV", ROOT.parents[1] / "shared" / "data" / "arbanking77" / "msa_pal_train.csv"))
if not ARBANKING.exists():
    ARBANKING = Path("/work/shared/data/arbanking77/msa_pal_train.csv")


def bench_texts(count: int) -> list[str]:
    """``count`` distinct real Arabic customer messages (ArBanking77, MSA and Palestinian dialect), in file order."""
    with ARBANKING.open(encoding="utf-8") as f:
        rows = [r[0] for r in csv.reader(f)][1:]
    texts = [t for t in dict.fromkeys(r.strip() for r in rows) if len(t) >= 10]
    if len(texts) < count:
        raise SystemExit(f"{ARBANKING} has {len(texts)} distinct texts, {count} asked")
    return texts[:count]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - a cache key, not security


def _path(encoder: str) -> Path:
    return CACHE / f"{encoder}.npz"


def _read(encoder: str) -> dict[str, np.ndarray]:
    path = _path(encoder)
    if not path.exists():
        return {}
    data = np.load(path)
    return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def _write(encoder: str, known: dict[str, np.ndarray]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = _path(encoder).with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    tmp.replace(_path(encoder))


def cached_vectors(encoder_name: str, texts: list[str], chunk: int = 256, quiet: bool = False) -> np.ndarray:
    """The encoder's vectors of ``texts`` (rows aligned), encoding only those the cache lacks."""
    from nlp import get_encoder

    known = _read(encoder_name)
    todo = [t for t in dict.fromkeys(texts) if _key(t) not in known]
    if todo:
        encoder = get_encoder(encoder_name)
        if encoder is None:
            raise SystemExit(f"encoder {encoder_name} is not installed")
        start = time.perf_counter()
        for i in range(0, len(todo), chunk):
            part = todo[i:i + chunk]
            known.update(zip(map(_key, part), encoder.encode(part), strict=True))
            _write(encoder_name, known)  # resumable: an interrupted fill keeps what it encoded
            if not quiet:
                done = i + len(part)
                print(f"  encoded {done}/{len(todo)} texts with {encoder_name} "
                      f"({done / (time.perf_counter() - start):.0f}/s)", flush=True)
    return np.stack([known[_key(t)] for t in texts])


def cached_public(texts: list[str]) -> list[tuple[str, str]]:
    """(public text, search text) of each text as the app computes them (voice.text), cached like vectors:
    redaction costs milliseconds a text, a minute for a 10,000-item seed on a busy machine."""
    import json

    from voice.text import public_text, search_text

    path = CACHE / "public.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    todo = [t for t in dict.fromkeys(texts) if _key(t) not in known]
    for t in todo:
        public = public_text(t)
        known[_key(t)] = [public, search_text(public)]
    if todo:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    return [tuple(known[_key(t)]) for t in texts]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default=os.environ.get("VOICE_ENCODER", "e5"))
    parser.add_argument("--count", type=int, default=10_400)
    args = parser.parse_args()
    cached_vectors(args.encoder, bench_texts(args.count))
