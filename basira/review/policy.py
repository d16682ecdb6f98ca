"""The policy catalogue: the reasons a decision may cite, loaded from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.review.decisions import ALL_ACTIONS

DEFAULT_CATALOGUE = Path(__file__).with_name("policies.toml")


@dataclass(frozen=True, slots=True)
class PolicyReason:
    code: str
    title: str
    description: str
    actions: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "description": self.description, "actions": list(self.actions)}


@dataclass(frozen=True)
class PolicyCatalogue:
    reasons: tuple[PolicyReason, ...]

    def get(self, code: str) -> PolicyReason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def for_action(self, action: str) -> list[PolicyReason]:
        return [r for r in self.reasons if action in r.actions]


class CatalogueError(BasiraError):
    pass


def parse_catalogue(text: str, source: str = "<catalogue>") -> PolicyCatalogue:
    """Parse and validate a catalogue: unique codes, known actions, every action covered."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: {exc}") from None
    reasons = []
    seen: set[str] = set()
    for i, r in enumerate(data.get("reason", []), 1):
        where = f"{source}: reason #{i}"
        code = str(r.get("code", "")).strip()
        if not code:
            raise CatalogueError.of(N_("%(where)s: missing code"), where=where)
        if code in seen:
            raise CatalogueError.of(N_("%(where)s: duplicate code %(code)s"), where=where, code=repr(code))
        actions = tuple(r.get("actions", []))
        bad = [a for a in actions if a not in ALL_ACTIONS]
        if not actions or bad:
            raise CatalogueError.of(N_("%(where)s (%(code)s): actions must be some of %(known)s, got %(actions)s"),
                                     where=where, code=code, known=sorted(ALL_ACTIONS), actions=list(actions))
        seen.add(code)
        reasons.append(PolicyReason(code, str(r.get("title", code)), str(r.get("description", "")), actions))
    cat = PolicyCatalogue(tuple(reasons))
    missing = [a for a in sorted(ALL_ACTIONS) if not cat.for_action(a)]
    if missing:
        raise CatalogueError.of(N_("%(source)s: no reason backs the action(s) %(actions)s"), source=source, actions=missing)
    return cat


def load_catalogue(path: str | Path | None = None) -> PolicyCatalogue:
    """Load the catalogue at path, $BASIRA_POLICY_CATALOGUE, or the packaged default."""
    from basira.core.settings import Settings

    p = Path(path or Settings.from_env().policy_catalogue or DEFAULT_CATALOGUE)
    return _load(str(p.resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> PolicyCatalogue:
    return parse_catalogue(Path(path).read_text(encoding="utf-8"), path)
