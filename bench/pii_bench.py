"""Benchmark of PII redaction (nlp.redact): misses and false hits per kind, and the time per 1,000 texts.

Not a test. Usage:  PYTHONPATH=src .venv/bin/python bench/pii_bench.py [--n 100000] [--seed 7] [--baseline REV]

- Generated PII: --n sentences, each holding one ID, phone, e-mail, IBAN, plate or name in one of the
  written forms of tests/nlp/test_redact.py (every digit set, invisible characters, every separator, cues).
  A miss is a value not covered by a match of its kind; a leak is a run of four of its digits left in
  fold(redact(sentence)), i.e. findable by public search.
- Generated ordinary texts: amounts, dates, times, percentages, order numbers and name-like words, per
  category; every hit is a false hit.
- Real texts: ArBanking77 (25k customer texts, no PII), the two press pieces in ../shared/seeds (officials'
  names), the demo feedback (planted PII). Every hit is printed for checking by hand.
- Speed: microseconds per text and milliseconds per 1,000 texts on each set, best of --repeat runs;
  with --baseline REV, the redactor of that git revision is timed on the same texts, interleaved.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.nlp.test_redact import GENERATORS, SENTENCES, any_digits, gen_name  # noqa: E402

from nlp.redact import KINDS, find_pii, fold, redact  # noqa: E402


def shared_folder() -> Path | None:
    env = os.environ.get("VOICE_SHARED_DATA")
    candidates = [Path(env).parent] if env else []
    candidates += [p / "shared" for p in ROOT.parents] + [ROOT.parent / "shared"]
    return next((c for c in candidates if (c / "data" / "arbanking77" / "msa_test.csv").exists()), None)


# ------------------------------------------------------------------------------ generated PII
def generated_pii(n: int, seed: int) -> list[tuple[str, str, str]]:
    r = random.Random(seed)
    kinds = [*sorted(GENERATORS), "name"]
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "name":
            sentence, pii = gen_name(r)
        else:
            pii = GENERATORS[kind](r)
            sentence = r.choice(SENTENCES).format(pii)
        out.append((kind, sentence, pii))
    return out


def score_pii(cases: list[tuple[str, str, str]]) -> None:
    total, missed, wrong, leaked = Counter(), Counter(), Counter(), Counter()
    examples: dict[str, list[str]] = {}
    for kind, sentence, pii in cases:
        total[kind] += 1
        start = sentence.index(pii)
        covering = [m for m in find_pii(sentence) if m.start <= start and m.end >= start + len(pii)]
        if not covering:
            missed[kind] += 1
            examples.setdefault(kind, []).append(sentence)
        elif covering[0].kind != kind:
            wrong[kind] += 1
        digits = re.sub(r"\D", "", fold(pii))
        public = re.sub(r"\D", "", fold(redact(sentence)))
        if len(digits) >= 9 and any(digits[i : i + 4] in public for i in range(len(digits) - 3)):
            leaked[kind] += 1
    print(f"{'kind':<12} {'cases':>7} {'missed':>7} {'other kind':>10} {'digits left':>11}")
    for kind in sorted(total):
        print(f"{kind:<12} {total[kind]:>7} {missed[kind]:>7} {wrong[kind]:>10} {leaked[kind]:>11}")
    print(
        f"{'all':<12} {sum(total.values()):>7} {sum(missed.values()):>7} {sum(wrong.values()):>10} "
        f"{sum(leaked.values()):>11}"
    )
    for kind, sentences in examples.items():
        print(f"  missed {kind}, e.g.: {sentences[:3]}")


# ------------------------------------------------------------------------------ ordinary texts
AMB_WORDS = ["سعيد", "متعب", "راضي", "عارف", "مسافر", "مهتم", "فرحان", "واثق", "مشرف", "مساعد", "صادق", "زين"]
CUES_WEAK = ["أنا", "انا", "ابني", "زوجتي", "المواطن", "السيد", "الموظف", "معك", "والدي", "بنتي"]
TAILS = ["بالخدمة", "من التأخير", "جدا", "عن الخدمة", "وأبغى حل", "في المراجعة", "لأن الطلب متأخر", "،", "."]
PHRASES = [
    "{amb} للاستخدام",
    "نور الشارع مطفي",
    "أمل كبير في التطوير",
    "بشكل جميل ومنظم",
    "الموظف المختص ما رد",
    "السيد الوزير يستحق الشكر",
    "مستشفى الملك فهد ومدينة الملك عبدالعزيز",
    "طريق الأمير محمد بن سلمان زحمة",
    "أبغى أغير اسمي لأني تزوجت",
    "اسمي مكتوب غلط في الشهادة",
    "أنا أحمد الله على النعمة",
    "I am very {en} with the service",
    "my name is wrong on the card",
]


def ordinary(seed: int, per_category: int) -> dict[str, list[str]]:
    r = random.Random(seed)

    def digits_any(text: str) -> str:
        return any_digits(text, r, r.choice([[0x30], [0x30], [0x660], [0x6F0]]))

    def amount() -> str:
        v = r.choice([r.randint(1, 9_999), r.randint(10_000, 9_999_999), r.randint(10**7, 10**12)])
        form = r.choice(
            [
                f"{v:,}",
                f"{v:,}.{r.randint(0, 99):02d}",
                f"{v:_}".replace("_", "."),
                f"{v:,}".replace(",", "٬"),
            ]
        )
        if v < 10**7 or r.random() < 0.5:
            form = r.choice([form, str(v)])
        unit = (
            r.choice(["ريال", "ر.س", "SAR", "دولار", "مليون", "", "ريالات"])
            if v < 10**9
            else r.choice(["ريال", "SAR"])
        )
        return digits_any(
            r.choice([f"دفعت {form} {unit} ولم يصل", f"المبلغ: {unit} {form}", f"بقيمة {form} {unit}"])
        )

    def date() -> str:
        y = r.choice([r.randint(1950, 2035), r.randint(1400, 1450)])
        m, d = r.randint(1, 12), r.randint(1, 28)
        sep = r.choice("/-.")
        form = r.choice(
            [
                f"{y}{sep}{m:02d}{sep}{d:02d}",
                f"{d}{sep}{m}{sep}{y}",
                f"{d:02d}/{m:02d}/{y % 100:02d}",
                f"{y}/{m}/{d}",
                f"{d}{sep}{m:02d}{sep}{y}",
            ]
        )
        tail = r.choice(
            [
                "",
                f" {r.randint(0, 23)}:{r.randint(0, 59):02d}",
                f" الساعة {r.randint(1, 12)}",
                f" {r.randint(1, 12)} ص",
            ]
        )
        return digits_any(f"بتاريخ {form}{tail} راجعت الفرع")

    def times() -> str:
        t = [f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}" for _ in range(4)]
        return digits_any(
            r.choice(
                [
                    f"من {t[0]} إلى {t[1]}",
                    f"المواعيد {t[0]} {t[1]} {t[2]} {t[3]}",
                    f"الساعة {t[0]}:{r.randint(0, 59):02d}",
                    f"مدة الانتظار {r.randint(1, 90)} دقيقة",
                ]
            )
        )

    def counts() -> str:
        return digits_any(
            r.choice(
                [
                    f"نسبة {r.randint(1, 100)}% من الطلبات",
                    f"عام {r.randint(1990, 2030)} وعام {r.randint(1400, 1450)}",
                    f"عندي {r.randint(1, 30)} طلبات",
                    f"انتظرت {r.randint(2, 60)} يوما و {r.randint(1, 12)} شهرا",
                    f"{r.randint(1, 20)} - {r.randint(1, 20)} - {r.randint(1, 20)}",
                ]
            )
        )

    def order_number() -> str:  # not ID- or phone-shaped: 4-8 digits, or 11-12 starting with 7 or 8
        n = r.choice(
            [
                str(r.randint(1000, 99_999_999)),
                str(r.randint(7, 8)) + "".join(r.choice("0123456789") for _ in range(r.randint(10, 11))),
            ]
        )
        return digits_any(
            r.choice([f"رقم الطلب {n}", f"رقم البلاغ #{n}", f"المرجع: {n}", f"فاتورة سداد {n}"])
        )

    def name_like() -> str:
        if r.random() < 0.6:
            return f"{r.choice(CUES_WEAK)} {r.choice(AMB_WORDS)} {r.choice(TAILS)}"
        return r.choice(PHRASES).format(
            amb=r.choice(["صالح", "سالم", "جميل", "كريم"]), en=r.choice(["happy", "upset", "Tired"])
        )

    makers: dict[str, Callable[[], str]] = {
        "amounts": amount, "dates": date, "times": times, "counts/years/%": counts,
        "order numbers": order_number, "name-like words": name_like,
    }  # fmt: skip
    return {name: [make() for _ in range(per_category)] for name, make in makers.items()}


def score_ordinary(sets: dict[str, list[str]]) -> None:
    print(f"{'category':<18} {'texts':>7} {'false hits':>10}")
    for name, texts in sets.items():
        hits = [(t, [(m.kind, t[m.start : m.end]) for m in find_pii(t)]) for t in texts]
        hits = [h for h in hits if h[1]]
        print(f"{name:<18} {len(texts):>7} {len(hits):>10}")
        for h in hits[:3]:
            print(f"  e.g. {h}")


# --------------------------------------------------------------------------------- real texts
def real_sets(shared: Path | None) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    if shared:
        for name in ("msa_test.csv", "msa_pal_train.csv"):
            with open(shared / "data" / "arbanking77" / name, encoding="utf-8") as f:
                sets[f"arbanking77/{name}"] = [row["text"] for row in csv.DictReader(f)]
        seeds = sorted((shared / "seeds").glob("*.txt"))
        sets["seeds (press, paragraphs)"] = [
            p for s in seeds for p in s.read_text(encoding="utf-8").split("\n") if p.strip()
        ]
    demo = ROOT / "src" / "voice" / "demo" / "data" / "feedback.json"
    if demo.exists():
        sets["demo feedback bodies"] = [item["body"] for item in json.loads(demo.read_text(encoding="utf-8"))]
    return sets


def score_real(sets: dict[str, list[str]], show: int) -> None:
    print(f"{'set':<30} {'texts':>7} {'with a hit':>10}  hits per kind")
    for name, texts in sets.items():
        kinds, shown = Counter(), []
        hit_texts = 0
        for t in texts:
            found = find_pii(t)
            hit_texts += bool(found)
            for m in found:
                kinds[m.kind] += 1
                shown.append(
                    f"{m.kind}: {t[m.start : m.end]!r} in …{t[max(0, m.start - 30) : m.end + 20]!r}…"
                )
        print(f"{name:<30} {len(texts):>7} {hit_texts:>10}  {dict(kinds) or '-'}")
        for line in shown[:show]:
            print(f"  {line}")


# ------------------------------------------------------------------------------------- speed
def git_show(rev: str, path: str) -> str:
    command = ["git", "-C", str(ROOT), "show", f"{rev}:{path}"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def load_baseline(rev: str) -> Callable[[str], str]:
    """The redactor of a git revision as the module ``redact_baseline``: src/nlp/redact.py, or the package
    src/nlp/redact/ with its imports of its own modules pointed at the copy."""
    folder = Path(tempfile.mkdtemp())
    listing = ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:src/nlp/redact/"]
    listed = subprocess.run(listing, capture_output=True, text=True)
    if listed.returncode == 0:  # the package
        package = folder / "redact_baseline"
        package.mkdir()
        for name in listed.stdout.split():
            if name.endswith(".py"):
                source = re.sub(
                    r"^(\s*from )nlp\.redact\b",
                    r"\1redact_baseline",
                    git_show(rev, f"src/nlp/redact/{name}"),
                    flags=re.M,
                )
                (package / name).write_text(source, encoding="utf-8")
        path, search = package / "__init__.py", [str(package)]
    else:
        path, search = folder / "redact_baseline.py", None
        path.write_text(git_show(rev, "src/nlp/redact.py"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("redact_baseline", path, submodule_search_locations=search)
    module = importlib.util.module_from_spec(spec)
    sys.modules["redact_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.redact


def per_text_us(fn: Callable[[str], str], texts: list[str]) -> float:
    t = time.perf_counter()
    for text in texts:
        fn(text)
    return (time.perf_counter() - t) / len(texts) * 1e6


def speed(sets: dict[str, list[str]], repeat: int, baseline: Callable[[str], str] | None) -> None:
    head = f"{'set':<30} {'texts':>7} {'µs/text':>8} {'ms/1,000':>9}"
    print(head + (f" {'baseline µs/text':>16}" if baseline else ""))
    for name, texts in sets.items():
        ours, theirs = [], []
        for _ in range(repeat):
            ours.append(per_text_us(redact, texts))
            if baseline:
                theirs.append(per_text_us(baseline, texts))
        line = f"{name:<30} {len(texts):>7} {min(ours):>8.1f} {min(ours):>9.1f}"
        print(line + (f" {min(theirs):>16.1f}" if baseline else ""))


def worst_case(seed: int) -> list[str]:
    """5,000-character texts built to be slow: long digit runs, many separators, cues and names, '@'s."""
    r = random.Random(seed)
    digits = " ".join(str(r.randint(0, 9)) for _ in range(2_500))[:5_000]
    dotted = ".".join(str(r.randint(0, 999)) for _ in range(1_300))[:5_000]
    names = (
        " ".join(
            r.choice(["أنا", "فهد", "بن", "عبدالله", "سعيد", "اسمي", "آل", "القحطاني"]) for _ in range(1_000)
        )
    )[:5_000]
    ats = ("a" * 70 + "@") * 70
    mixed = "".join(r.choice("0123456789 -./\u200b٠١٢٣٤٥٦٧٨٩") for _ in range(5_000))
    return [digits, dotted, names, ats[:5_000], mixed]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="generated PII sentences")
    parser.add_argument("--ordinary", type=int, default=20_000, help="generated ordinary texts per category")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--show", type=int, default=12, help="hits printed per real set")
    parser.add_argument("--baseline", help="git revision whose redactor (nlp.redact) is timed alongside")
    args = parser.parse_args()

    redact("اسمي فهد 0501234567")  # load the lists once, outside the timings
    print(f"# PII redaction benchmark — kinds {', '.join(KINDS)}; seed {args.seed}\n")
    print(f"## Generated PII ({args.n:,} sentences)")
    cases = generated_pii(args.n, args.seed)
    score_pii(cases)
    print(f"\n## Generated ordinary texts ({args.ordinary:,} per category)")
    plain = ordinary(args.seed, args.ordinary)
    score_ordinary(plain)
    print("\n## Real texts")
    real = real_sets(shared_folder())
    score_real(real, args.show)
    print(f"\n## Speed (best of {args.repeat})")
    timed = dict(real)
    timed["generated PII sentences"] = [s for _, s, _ in cases[:20_000]]
    timed["generated ordinary texts"] = [t for texts in plain.values() for t in texts[:2_000]]
    timed["5,000-char worst cases"] = worst_case(args.seed)
    speed(timed, args.repeat, load_baseline(args.baseline) if args.baseline else None)


if __name__ == "__main__":
    main()
