"""Evaluation metrics: precision, recall, F1 and flag rate, grouped by file and by language."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Counts:
    n: int = 0
    positives: int = 0
    flagged: int = 0
    true_positives: int = 0

    def add(self, label: int, flagged: bool) -> Counts:
        return Counts(
            self.n + 1,
            self.positives + int(label == 1),
            self.flagged + int(flagged),
            self.true_positives + int(label == 1 and flagged),
        )

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None if self.positives == 0 else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.n if self.n else 0.0

    @property
    def negative_flag_rate(self) -> float | None:
        negatives = self.n - self.positives
        return (self.flagged - self.true_positives) / negatives if negatives else None

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("precision", "recall", "f1", "flag_rate", "negative_flag_rate"):
            value = getattr(self, key)
            out[key] = None if value is None else round(value, 4)
        return out


def grouped_counts(rows: Iterable[tuple[str, int, bool]]) -> dict[str, Counts]:
    """(group, label, flagged) rows -> Counts per group, plus 'all'."""
    groups: dict[str, Counts] = defaultdict(Counts)
    for group, label, flagged in rows:
        groups[group] = groups[group].add(label, flagged)
        groups["all"] = groups["all"].add(label, flagged)
    return dict(groups)
