"""The house's layer order holds: no import from a lower layer to a higher one, no package-level cycle.

The order and the known debts are read from docs/architecture.md (fenced blocks `layers` and `debts`), so the
guide and the check cannot drift apart. Every import counts, including those inside functions (a lazy import
is still a dependency) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "basira"
GUIDE = ROOT / "docs" / "architecture.md"


def _block(name: str) -> list[str]:
    m = re.search(rf"```{name}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert m, f"docs/architecture.md has no ```{name} block"
    return [line.strip() for line in m.group(1).splitlines() if line.strip()]


def layers() -> dict[str, int]:
    return {name: level for level, line in enumerate(_block("layers")) for name in line.split()}


def debts() -> set[tuple[str, str]]:
    out = set()
    for line in _block("debts"):
        m = re.match(r"(\w+) -> (\w+):", line)
        assert m, f"a debt line reads 'low -> high: where', not {line!r}"
        out.add((m.group(1), m.group(2)))
    return out


def unit_of(path: Path) -> str:
    """The package (or top-level module) a file belongs to: basira/store/db.py -> store, basira/scan.py -> scan."""
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return "basira" if rel.name == "__init__.py" else rel.stem
    return rel.parts[0]


def _target(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).exists() or \
        len(parts) > 1 and (PACKAGE / f"{parts[1]}.py").exists() else "basira"


def imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where, for every import between two different units."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        src = unit_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "basira" else [node.module]
            else:
                continue
            for name in names:
                if name == "basira" or name.startswith("basira."):
                    dst = _target(name)
                    if dst != src:
                        edges[(src, dst)].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return edges


def test_every_package_has_a_layer():
    units = {unit_of(p) for p in PACKAGE.rglob("*.py")}
    assert sorted(units - set(layers())) == [], "place new packages in docs/architecture.md's layers block"


def test_no_import_goes_up_the_layers():
    level, allowed = layers(), debts()
    up = [f"{s} -> {d} ({', '.join(where[:3])})" for (s, d), where in sorted(imports().items())
          if level.get(s, 0) < level.get(d, 0) and (s, d) not in allowed]
    assert up == []


def test_known_debts_still_exist():
    """A debt paid off leaves the list (so the list only shrinks)."""
    edges = imports()
    assert sorted(d for d in debts() if d not in edges) == []


def test_no_package_level_cycle():
    """Strongly connected components of the unit graph, debts left out: each must be a single unit."""
    graph: dict[str, set[str]] = defaultdict(set)
    for (s, d) in imports():
        if (s, d) not in debts():
            graph[s].add(d)
    assert strongly_connected(graph) == []


def module_imports() -> dict[str, set[str]]:
    """Module -> the basira modules it imports (a `from pkg import name` counts pkg.name when it is a module)."""
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        mods[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path

    def resolve(name: str) -> str:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for n in names:
                target = resolve(n) if n.startswith("basira") else ""
                if target and target != mod and not mod.startswith(target + "."):  # a package's own __init__
                    graph[mod].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_file_level_cycle_outside_plugin_registries_and_listed_debts():
    allowed = {tuple(sorted(line.split(":", 1)[1].split())) for line in _block("cycles")}
    found = {tuple(c) for c in strongly_connected(module_imports())}
    assert sorted(found - allowed) == [], "a new cycle between files"
    assert sorted(allowed - found) == [], "a listed cycle is gone: take it off docs/architecture.md"


def test_the_check_sees_lazy_imports():
    """The walk counts an import inside a function: network/load.py reads the detector's threshold through one
    (network has no other import of detect)."""
    assert ("network", "detect") in imports()
