"""The support gate: how much n-gram evidence a text needs, given what its indicator phrases say it does.

A small logistic regression, learned on the dev split (out-of-sample n-gram margins), over the n-gram margin,
the indicator presence flags and the margin's products with the stance flags. It replaces v1's hand-set
"no-support penalty": the data decide how far a text with no support phrase (or with a reporting verb, a
derogatory name for the group, or a sectarian slur) must be pushed by its n-grams before it is called support.
Its output is the calibrated logit (the score is its sigmoid).

The threshold is picked by the text's script (basira.text.script_of), not its language: short-text language
identification is unreliable (an English post with Arabic loanwords reads as Albanian or Tagalog); the script is not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from basira.detect.indicators import CATEGORIES
from basira.detect.lexicon import SUPPORT_CATEGORIES

_K = len(CATEGORIES)
_SUPPORT = [CATEGORIES.index(c) for c in SUPPORT_CATEGORIES]
_DIST = CATEGORIES.index("distancing")
_HATE = CATEGORIES.index("sectarian_hate")
_CONDEMN = CATEGORIES.index("condemnation")

GATE_FEATURES = (
    "margin",
    "any_support",
    "margin×any_support",
    "distancing",
    "margin×distancing",
    "distancing_count",
    "sectarian_hate",
    "margin×sectarian_hate",
    *(f"support:{c}" for c in SUPPORT_CATEGORIES),
    "hate_logit",
    "hate_logit×no_support",
    "condemnation",
    "margin×condemnation",
    "condemnation_count",
    "sectarian_hate×no_support",
)


def gate_matrix(margins: np.ndarray, indicators: np.ndarray, hate_logits: np.ndarray,
                stance: np.ndarray | None = None, stance_names: Sequence[str] = ()) -> np.ndarray:
    """Rows of GATE_FEATURES from n-gram margins, the indicator block (log counts, then presence flags) and the
    hate head's logits: a text the hate head reads as hate speech, with no support phrase, needs more n-gram
    evidence — this is what keeps anti-Shia invective from borrowing the propaganda's vocabulary score.

    With `stance_names` (a model's `gate_stance`), the stance columns follow (stance.stance_columns: flags of
    `stance`, the stance.stance_matrix rows, or their products with the margin); without, exactly v3's columns."""
    present = np.asarray(indicators)[:, _K:] > 0
    z = np.asarray(margins, dtype=np.float64)
    s = present[:, _SUPPORT].any(axis=1).astype(np.float64)
    d = present[:, _DIST].astype(np.float64)
    dc = np.asarray(indicators)[:, _DIST].astype(np.float64)  # log(1 + hits): several reporting cues weigh more
    h = present[:, _HATE].astype(np.float64)
    cats = present[:, _SUPPORT].astype(np.float64)
    hl = np.clip(np.asarray(hate_logits, dtype=np.float64), -10, 10)
    c = present[:, _CONDEMN].astype(np.float64)
    cc = np.asarray(indicators)[:, _CONDEMN].astype(np.float64)
    base = np.column_stack([z, s, z * s, d, z * d, dc, h, z * h, cats, hl, hl * (1 - s), c, z * c, cc, h * (1 - s)])
    if not stance_names:
        return base
    if stance is None:
        raise ValueError("gate_matrix: stance columns asked for without the stance flags")
    from basira.detect.stance import stance_columns

    return np.column_stack([base, stance_columns(np.asarray(stance), z, stance_names)])

