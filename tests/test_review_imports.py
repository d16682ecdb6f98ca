"""review/ knows neither compliance/ nor banks/ (issue 12 item 5): what a decision sets off, and the checks it
needs answered, reach those domains through DecisionEffects' named listeners and checks — not an import, not
even one inside a function (the layer test sees only module-level imports' packages)."""

import ast
from pathlib import Path

REVIEW = Path(__file__).resolve().parent.parent / "basira" / "review"


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "basira":
                names |= {f"basira.{a.name}" for a in node.names}
    return names


def test_no_review_module_imports_banks_or_compliance_anywhere():
    offenders = {
        f"{path.name}: {name}"
        for path in sorted(REVIEW.glob("*.py"))
        for name in _imported(ast.parse(path.read_text(encoding="utf-8")))
        if name.split(".")[:2] in (["basira", "banks"], ["basira", "compliance"])
    }
    assert offenders == set()


def test_the_scan_sees_a_lazy_import(tmp_path):
    # The walk itself must be able to fail: an import inside a function is found.
    tree = ast.parse("def f():\n    from basira import banks\n    import basira.compliance.orders\n")
    assert {"basira.banks", "basira.compliance.orders"} <= _imported(tree)
