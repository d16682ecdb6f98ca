"""The trained detector's artifact: plain arrays (.npz, no pickles) and JSON metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from basira.detect.features import FeatureConfig, FeatureExtractor

# Languages whose texts are written in Arabic or Cyrillic script (for threshold_for(lang) on v2 models).
_LANG_SCRIPT = {**dict.fromkeys(("ar", "fa", "ur", "ps", "ku", "sd", "ug"), "arabic"),
                **dict.fromkeys(("ru", "uk", "be", "bg", "kk", "ky", "tg", "mn", "sr", "mk", "tt", "ba"), "cyrillic")}

MODEL_DIR = Path(__file__).parent / "model"
WEIGHTS_FILE = "detector.npz"
META_FILE = "detector.json"


@dataclass
class LinearModel:
    """Logistic model over hashed features, with Platt calibration and a decision threshold."""

    config: FeatureConfig
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    calib_a: float = 1.0
    calib_b: float = 0.0
    threshold: float = 0.5  # for languages without a threshold of their own
    lang_thresholds: dict[str, float] = field(default_factory=dict)  # chosen where the dev split has positives
    # Optional second stage (see embedding.py): margin = first-stage margin + emb_weight × embedding margin,
    # computed only within band_halfwidth of the first-stage margin that sat on the decision threshold
    # (band_centers per language, band_default otherwise); elsewhere the embedding margin is emb_fill.
    emb_coef: np.ndarray | None = None
    emb_intercept: float = 0.0
    emb_weight: float = 0.0
    emb_fill: float = 0.0
    band_centers: dict[str, float] = field(default_factory=dict)
    band_default: float = 0.0
    band_halfwidth: float = 0.0
    # Subtracted from the first-stage margin of a text with no support indicator (no name, slogan, pledge, call
    # or threat of the group): sectarian and political abuse shares the group's vocabulary, not its phrases.
    no_support_penalty: float = 0.0
    # v2: the learned support gate (weights of gate.GATE_FEATURES, then the intercept); when present its logit
    # is the decision margin, and thresholds are per script (basira.text.script_of), never per guessed language.
    gate: np.ndarray | None = None
    script_thresholds: dict[str, float] = field(default_factory=dict)
    # v4: stance columns of the gate after GATE_FEATURES (names of stance.STANCE_FEATURES flags, or
    # "margin×<flag>" products); empty = v3's gate exactly, and the stance flags are never computed.
    gate_stance: tuple[str, ...] = ()
    # The hate-speech head (second policy): a logistic model on the same features, and its threshold.
    hate_coef: np.ndarray | None = None
    hate_intercept: float = 0.0
    hate_threshold: float = 1.0
    # Above its threshold a score is a rank scale: the calibrated logit's excess over the threshold's logit, x,
    # becomes k·log(1 + x/k) (k = rank_spread; slope 1 at the cut), so flags spread over the flagged range
    # instead of piling up at 0.999–1.000. Monotone and anchored at each cut: who is flagged and their order are
    # unchanged; 0 = off (plain Platt scores, as before).
    rank_spread: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def has_second_stage(self) -> bool:
        return self.emb_coef is not None and self.emb_weight > 0

    def band_center(self, lang: str | None) -> float:
        return self.band_centers.get(lang or "", self.band_default)

    def threshold_for(self, lang: str | None) -> float:
        """v1: per language; v2 models map the language to its usual script (decisions use the text's script)."""
        if self.script_thresholds:
            return self.threshold_for_script(_LANG_SCRIPT.get(lang or "", "latin"))
        return self.lang_thresholds.get(lang or "", self.threshold)

    def threshold_for_script(self, script: str) -> float:
        return self.script_thresholds.get(script, self.threshold)

    def gate_logit(self, margins: np.ndarray, indicators: np.ndarray, hate_logits: np.ndarray,
                   stance: np.ndarray | None = None) -> np.ndarray:
        """The support gate's logit from n-gram margins, the indicator block, hate logits and, when the gate has
        stance columns (gate_stance), the stance flags (stance.stance_matrix rows; see gate.py)."""
        if self.gate is None:
            return margins
        from basira.detect.gate import gate_matrix

        x = gate_matrix(margins, indicators, hate_logits, stance, self.gate_stance)
        return x @ self.gate[:-1] + self.gate[-1]

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(self.config, self.idf)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Decision margin -> calibrated probability in [0, 1]."""
        z = self.calib_a * margin + self.calib_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def calibrate_ranked(self, margin: np.ndarray, cuts: np.ndarray) -> np.ndarray:
        """Calibrated scores with the flagged range spread (see rank_spread); decisions as `calibrate`'s.

        A text flagged by `calibrate(margin) >= cut` keeps a score >= cut, every other text keeps its score.
        """
        scores = self.calibrate(margin)
        k = self.rank_spread
        cuts = np.broadcast_to(np.asarray(cuts, dtype=np.float64), scores.shape)
        over = scores >= cuts
        if k <= 0 or not over.any():
            return scores
        z = self.calib_a * np.asarray(margin, dtype=np.float64)[over] + self.calib_b  # unclipped: 1.0s keep their order
        c = np.clip(cuts[over], 1e-9, 1 - 1e-9)
        zc = np.log(c / (1 - c))
        spread = zc + k * np.log1p(np.maximum(z - zc, 0.0) / k)
        out = scores.copy()
        out[over] = np.maximum(cuts[over], 1.0 / (1.0 + np.exp(-spread)))
        return out

    def save(self, directory: Path = MODEL_DIR) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"idf": self.idf.astype(np.float32), "coef": self.coef.astype(np.float32)}
        if self.emb_coef is not None:
            arrays["emb_coef"] = self.emb_coef.astype(np.float32)
        if self.hate_coef is not None:
            arrays["hate_coef"] = self.hate_coef.astype(np.float32)
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        meta = {
            "config": self.config.to_dict(),
            "intercept": float(self.intercept),
            "calib_a": float(self.calib_a),
            "calib_b": float(self.calib_b),
            "threshold": float(self.threshold),
            "lang_thresholds": {k: float(v) for k, v in sorted(self.lang_thresholds.items())},
            "no_support_penalty": float(self.no_support_penalty),
            "gate": None if self.gate is None else [float(v) for v in self.gate],
            "script_thresholds": {k: float(v) for k, v in sorted(self.script_thresholds.items())},
            **({"gate_stance": list(self.gate_stance)} if self.gate_stance else {}),
            "hate_intercept": float(self.hate_intercept),
            "hate_threshold": float(self.hate_threshold),
            "rank_spread": float(self.rank_spread),
            "second_stage": None
            if self.emb_coef is None
            else {
                "emb_intercept": float(self.emb_intercept),
                "emb_weight": float(self.emb_weight),
                "emb_fill": float(self.emb_fill),
                "band_centers": {k: float(v) for k, v in sorted(self.band_centers.items())},
                "band_default": float(self.band_default),
                "band_halfwidth": float(self.band_halfwidth),
            },
            **self.meta,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> LinearModel:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        # allow_pickle=False: a model file can never execute code when loaded.
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            idf, coef = arrays["idf"], arrays["coef"]
            emb_coef = arrays["emb_coef"] if "emb_coef" in arrays.files else None
            hate_coef = arrays["hate_coef"] if "hate_coef" in arrays.files else None
        config = FeatureConfig(**meta.pop("config"))
        second = meta.pop("second_stage", None) or {}
        gate = meta.pop("gate", None)
        return cls(
            config=config,
            idf=idf,
            coef=coef,
            intercept=meta.pop("intercept"),
            calib_a=meta.pop("calib_a"),
            calib_b=meta.pop("calib_b"),
            threshold=meta.pop("threshold"),
            lang_thresholds=meta.pop("lang_thresholds", {}),
            no_support_penalty=meta.pop("no_support_penalty", 0.0),
            gate=None if gate is None else np.array(gate, dtype=np.float64),
            script_thresholds=meta.pop("script_thresholds", {}),
            gate_stance=tuple(meta.pop("gate_stance", ())),
            hate_coef=hate_coef,
            hate_intercept=meta.pop("hate_intercept", 0.0),
            hate_threshold=meta.pop("hate_threshold", 1.0),
            rank_spread=meta.pop("rank_spread", 0.0),
            emb_coef=emb_coef if second else None,
            **second,
            meta=meta,
        )
