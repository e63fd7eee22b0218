"""The `nlp` command: cluster/evaluate outputs, redact/normalize pipes, and clean errors (exit 2, no traceback)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .corpus import feedback_corpus


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "nlp.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def feedback_csv(tmp_path):
    texts, labels = feedback_corpus(per_topic=8, seed=5)
    path = tmp_path / "feedback.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "topic"])
        writer.writerows([i, t, lab] for i, (t, lab) in enumerate(zip(texts, labels, strict=True)))
    return path


def test_cluster_writes_rows_in_order_and_summary(feedback_csv, tmp_path):
    out = tmp_path / "out.csv"
    result = run(
        "cluster",
        "--input",
        str(feedback_csv),
        "--text-column",
        "text",
        "--output",
        str(out),
        "--themes",
        "5",
        "--method",
        "tfidf",
    )
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [str(i) for i in range(40)]
    assert all(r["theme_id"] and r["theme_label"] for r in rows)
    summary = json.loads((tmp_path / "out.themes.json").read_text(encoding="utf-8"))
    assert summary["n_themes"] == 5 and len(summary["themes"]) == 5
    assert "cluster" in result.stderr  # tqdm progress on stderr


def test_evaluate_prints_scores_and_baseline(feedback_csv):
    result = run(
        "evaluate",
        "--input",
        str(feedback_csv),
        "--text-column",
        "text",
        "--label-column",
        "topic",
        "--method",
        "tfidf",
    )
    assert result.returncode == 0, result.stderr
    assert "NMI" in result.stdout and "baseline" in result.stdout


def test_redact_and_normalize_pipes():
    result = run("redact", stdin="جوالي ٠٥٠١٢٣٤٥٦٧\nلا شيء هنا\n")
    assert result.stdout == "جوالي [هاتف]\nلا شيء هنا\n"
    result = run("normalize", stdin="الإِقامـــة ١٢\n")
    assert result.stdout == "الاقامه 12\n"


@pytest.mark.parametrize("case", ["missing_file", "missing_column", "empty_file", "header_only", "not_utf8"])
def test_clean_errors(case, tmp_path, feedback_csv):
    path = tmp_path / "input.csv"
    if case == "missing_file":
        path = tmp_path / "nope.csv"
    elif case == "missing_column":
        path = feedback_csv
    elif case == "empty_file":
        path.write_bytes(b"")
    elif case == "header_only":
        path.write_text("text\n", encoding="utf-8")
    else:
        path.write_bytes("text\nتجربة\n".encode("cp1256"))
    column = "body" if case == "missing_column" else "text"
    result = run(
        "cluster", "--input", str(path), "--text-column", column, "--output", str(tmp_path / "o.csv")
    )
    assert result.returncode == 2
    assert result.stderr.startswith("nlp: error:")
    assert "Traceback" not in result.stderr


def test_entry_point_installed():
    script = Path(sys.executable).parent / "nlp"
    assert script.exists()
    result = subprocess.run(
        [str(script), "normalize"], input="ABC\n", capture_output=True, text=True, check=False
    )
    assert result.stdout == "abc\n"
