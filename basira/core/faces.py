"""A package's public face, loaded on first use (PEP 562): `__all__` names what other packages may import, and
`__getattr__` imports the module behind a name only when someone asks for it.

Why lazy: a face that imported its modules eagerly would make `import basira.review.decisions` (pure) load the
review service, the store and SQLAlchemy too, and would add the package's `__init__` to every import cycle one
of its modules is in. The names and their modules are one dict, so `__all__` cannot drift from what loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_face"]


def lazy_face(package: str, where: Mapping[str, str]) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """(`__all__`, `__getattr__`, `__dir__`) for `package`, whose public names live in the modules `where` maps
    them to (module names relative to the package)."""
    names = sorted(where)
    bad = [n for n in names if n.startswith("_")]
    if bad:
        raise ValueError(f"{package}: a public face has no private names ({', '.join(bad)})")

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook's name
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:  # noqa: N807
        return names

    return names, __getattr__, __dir__
