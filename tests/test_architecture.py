"""The shape of the code, checked: layers point one way, slices import only earlier slices, no import
cycle (imports inside functions and under TYPE_CHECKING count), no private name crosses a slice, and
modules stay small enough to read. docs/architecture.md explains the rules; this file enforces them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# The documented order of the domain slices: each may import only those before it.
SLICES = ("catalogue", "accounts", "attachments", "notifications", "administration", "themes", "feedback", "workspace", "ideas",
          "consultations", "awards", "privacy")

# Layers, lowest first. A module may import modules of its own layer or below.
FOUNDATION, DATA, DOMAIN, WEB, APP = range(5)
FOUNDATION_MODULES = {"voice", "voice.settings", "voice.ids", "voice.errors", "voice.i18n", "voice.labels",
                      "voice.batching", "voice.mail", "voice.text", "voice.component", "voice.formatting"}
DATA_MODULES = {"voice.db", "voice.jobs", "voice.priority"}
APP_MODULES = {"voice.app", "voice.cli", "voice.platform", "voice.worker", "voice.serving", "voice.models", "voice.migrate"}
# Modules that speak HTTP: a slice's controllers and API, and everything under a ``web`` package.
WEB_NAMES = {"controllers", "controller", "api", "pages", "web", "open311"}
# Longer than ~400 lines on purpose, each one cohesive thing (see docs/architecture.md).
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 400


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    imports: set[str] = field(default_factory=set)
    private: list[str] = field(default_factory=list)


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        text = path.read_text(encoding="utf-8")
        found[name] = Module(name, path, text.count("\n"))
    for module in found.values():
        _read_imports(module, found)
    return found


def _resolve(name: str, known: dict[str, Module]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _read_imports(module: Module, known: dict[str, Module]) -> None:
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(ast.parse(module.path.read_text(encoding="utf-8"))):  # every import, at any depth
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base, a.name) for a in node.names]
        else:
            continue
        for target, imported in targets:
            resolved = _resolve(target, known)
            if resolved is None or resolved == module.name:
                continue
            module.imports.add(resolved)
            if imported and imported.startswith("_") and not imported.startswith("__") and imported != "_" \
                    and slice_of(resolved) != slice_of(module.name):
                module.private.append(f"{module.name} imports {imported} from {resolved}")


def slice_of(name: str) -> str:
    """The slice a module belongs to: ``ideas``, ``feedback`` (voice.feedback…), or a core module's name."""
    parts = name.split(".")
    if parts[0] == "voice" and len(parts) > 1:
        return parts[1]
    return parts[0]


def layer_of(name: str) -> int:
    parts = name.split(".")
    if parts[0] == "nlp":
        return FOUNDATION
    if name in FOUNDATION_MODULES:
        return FOUNDATION
    if name in DATA_MODULES:
        return DATA
    if name in APP_MODULES or slice_of(name) == "demo" or parts[-1] == "component":
        return APP
    if slice_of(name) == "web" or WEB_NAMES & set(parts[1:] if parts[0] == "voice" else parts):
        return WEB
    if slice_of(name) in SLICES:
        return DOMAIN
    raise AssertionError(f"{name} has no place in the layers: add it to tests/test_architecture.py "
                         "and docs/architecture.md")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


MODULES = _modules()


def test_no_import_cycles() -> None:
    graph = {name: module.imports for name, module in MODULES.items()}
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_layers_point_one_way() -> None:
    wrong = [f"{m.name} ({layer_of(m.name)}) imports {i} ({layer_of(i)})"
             for m in MODULES.values() for i in sorted(m.imports) if layer_of(i) > layer_of(m.name)]
    assert not wrong, "\n".join(wrong)


def test_slices_import_only_earlier_slices() -> None:
    """Within the domain layer; a slice reaches a later one only through registration (see
    voice.component), never by importing it."""
    order = {name: position for position, name in enumerate(SLICES)}
    wrong = []
    for module in MODULES.values():
        mine = slice_of(module.name)
        if mine not in order or layer_of(module.name) != DOMAIN:
            continue  # the web layer and the app sit above every slice
        for target in module.imports:
            theirs = slice_of(target)
            if theirs in order and order[theirs] > order[mine]:
                wrong.append(f"{module.name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_nlp_imports_nothing_from_the_application() -> None:
    wrong = [f"{m.name} imports {i}" for m in MODULES.values() if slice_of(m.name) == "nlp"
             for i in m.imports if slice_of(i) != "nlp"]
    assert not wrong, "\n".join(wrong)


def test_no_private_name_crosses_a_slice() -> None:
    private = [p for m in MODULES.values() for p in m.private]
    assert not private, "\n".join(private)


def test_modules_stay_readable() -> None:
    long = {m.name: m.lines for m in MODULES.values() if m.lines > MAX_LINES and m.name not in LONG_MODULES}
    assert long == {}
    # An exception that no longer applies is removed, so the list stays honest.
    assert [name for name in LONG_MODULES if MODULES[name].lines <= MAX_LINES] == []
