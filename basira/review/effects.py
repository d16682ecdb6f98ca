"""What a decision sets off elsewhere, announced inside the decision's own transaction.

Review knows only this protocol: a `Removal` is announced to every listener with the decision's `Tx`, so the
decision, its preserved copy and notice (compliance) and its bank entry (banks) commit together or not at all
— no half-done removal for a repair sweep to find (the sweep stays, as a safety net). The listeners live with
their domains and are named here as `module:function`, resolved on first use, the way plugin registries name
their entries: review imports neither compliance nor banks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from basira.store.db import Tx

__all__ = ["CHECKS", "LISTENERS", "DecisionEffects", "Removal", "RemovalDelivered", "Undone"]


@dataclass(frozen=True)
class Removal:
    """A `remove` decision just recorded (in `tx`): what listeners need to act on it."""

    case_id: int
    decision_id: int
    at: datetime
    actor: str
    add_to_bank: str | None = None  # the reviewer asked for the content to go into this bank


@dataclass(frozen=True)
class Undone:
    """A `remove` decision just undone (in `tx`)."""

    case_id: int
    decision_id: int
    at: datetime
    actor: str


@dataclass(frozen=True)
class RemovalDelivered:
    """The platform acknowledged the webhook of a removal (in `tx`, with the delivery's own record)."""

    case_id: int
    delivery_id: int
    at: datetime


# event -> listeners, as "module:function". Each takes (tx, event) and returns a dict merged into the answer.
LISTENERS: dict[str, tuple[str, ...]] = {
    "removed": ("basira.compliance.repository:preserve_on_removal", "basira.banks:bank_on_removal"),
    "undone": ("basira.banks:unbank_on_undo",),
    "removal_delivered": ("basira.compliance.repository:confirm_on_delivery",),
}

Listener = Callable[[Tx, Any], "dict[str, Any] | None"]

# Checks a decision needs answered before it is recorded, as "module:function" (store, value) -> None, raising a
# BasiraError to refuse: "add_to_bank" — may removed content go into this bank (it exists, it is not an
# allow-list)? The bank's own rules, asked without review importing banks.
CHECKS: dict[str, tuple[str, ...]] = {
    "add_to_bank": ("basira.banks:require_positive_bank",),
}


def _resolve(name: str) -> Listener:
    module, _, attr = name.partition(":")
    fn: Listener = getattr(importlib.import_module(module), attr)
    return fn


@dataclass
class DecisionEffects:
    """The listeners a ReviewService announces to; tests may pass their own."""

    listeners: dict[str, Sequence[str | Listener]] = field(default_factory=lambda: dict(LISTENERS))
    checks: dict[str, Sequence[str | Callable[[Any, Any], Any]]] = field(default_factory=lambda: dict(CHECKS))
    _cache: dict[str, list[Listener]] = field(default_factory=dict, repr=False)

    def check(self, name: str, store: Any, value: Any) -> None:
        """Ask every check registered under `name`; the first to refuse raises its BasiraError."""
        for x in self.checks.get(name, ()):
            (_resolve(x) if isinstance(x, str) else x)(store, value)

    def _of(self, event: str) -> list[Listener]:
        if event not in self._cache:
            self._cache[event] = [_resolve(x) if isinstance(x, str) else x for x in self.listeners.get(event, ())]
        return self._cache[event]

    def announce(self, tx: Tx, event: str, what: Removal | Undone | RemovalDelivered) -> dict[str, Any]:
        """Tell every listener, in the caller's transaction; their answers merged (later keys win)."""
        out: dict[str, Any] = {}
        for fn in self._of(event):
            out |= fn(tx, what) or {}
        return out
