"""Each package shows a small public face (`__all__` in its `__init__`), and no package reaches into another's
private parts: an import of a module or a name starting with `_` (dunders aside) from another package fails
here, as does a "module:function" or dotted string naming one (the review's effect listeners are such strings).
Like tests/test_layers.py, it reads the source, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "basira"
FACES = ("signals", "banks", "detect", "text", "core", "cases", "ingest", "network", "compliance", "review")
DOTTED = re.compile(r"^basira(?:\.\w+)+(?::\w+)?$")


def unit_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return "basira" if rel.name == "__init__.py" else rel.stem
    return rel.parts[0]


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_reaches(path: Path, unit: str | None = None) -> list[str]:
    """Where a file (of package `unit`, by default the one it is in) names another package's private module or
    attribute: 'file:line: what'."""
    src = unit or unit_of(path)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.match(node.value):
            module, _, attr = node.value.partition(":")
            targets = [(module, attr or None)]
        else:
            continue
        for module, name in targets:
            parts = module.split(".")
            if parts[0] != "basira" or len(parts) < 2 or parts[1] == src:
                continue
            if any(_private(p) for p in parts) or (name is not None and _private(name)):
                out.append(f"{path.name if unit else path.relative_to(ROOT)}:{node.lineno}: "
                           f"{module}{'.' + name if name else ''}")
    return out


def test_no_package_reaches_into_another_packages_private_names():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in private_reaches(path)]
    assert found == []


def test_the_check_sees_private_reaches(tmp_path):
    """It finds an import of a private module, of a private name, and a private listener string."""
    probe = tmp_path / "probe.py"  # read as if it were in basira/web/
    probe.write_text("from basira.banks._items import create_bank\nfrom basira.signals.index import _pool\n"
                     "def f():\n    import basira.signals._hamming_kernel\n"
                     "LISTENER = 'basira.banks._review:bank_on_removal'\n"
                     "from basira.core.faces import lazy_face\nfrom basira import __version__\n", encoding="utf-8")
    hits = private_reaches(probe, unit="web")
    assert [h.split(": ", 1)[1] for h in hits] == [
        "basira.banks._items.create_bank", "basira.signals.index._pool", "basira.signals._hamming_kernel",
        "basira.banks._review.bank_on_removal"]


def _all_of(package: str) -> list[str]:
    return list(importlib.import_module(f"basira.{package}").__all__)


@pytest.mark.parametrize("package", FACES)
def test_each_package_has_a_small_public_face(package):
    names = _all_of(package)
    assert names, f"basira/{package}/__init__.py has no __all__"
    assert len(names) == len(set(names))
    assert [n for n in names if _private(n)] == []
    module = importlib.import_module(f"basira.{package}")
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == [], f"basira.{package}.__all__ names what it cannot give"
    assert set(names) <= set(dir(module))


def test_a_lazy_face_loads_nothing_until_asked():
    """Importing a pure module of a package with a lazy face does not load the rest of the package (nor the
    store): review.decisions and cases.priority stay free of SQLAlchemy, until a face name is used."""
    code = ("import sys, basira.review.decisions, basira.cases.priority\n"
            "print('sqlalchemy' in sys.modules, 'basira.review.service' in sys.modules)\n"
            "import basira.review\nbasira.review.ReviewService\n"
            "print('basira.review.service' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout.split()
    assert out == ["False", "False", "True"]


def test_an_unknown_face_name_is_an_attribute_error():
    import basira.review

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        basira.review.nothing_here  # noqa: B018
