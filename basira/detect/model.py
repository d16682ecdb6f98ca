"""The trained detector's artifact: plain arrays (.npz, no pickles) and JSON metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from basira.detect.features import FeatureConfig, FeatureExtractor

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
    threshold: float = 0.5
    meta: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(self.config, self.idf)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Decision margin -> calibrated probability in [0, 1]."""
        z = self.calib_a * margin + self.calib_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def save(self, directory: Path = MODEL_DIR) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / WEIGHTS_FILE,
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
        )
        meta = {
            "config": self.config.to_dict(),
            "intercept": float(self.intercept),
            "calib_a": float(self.calib_a),
            "calib_b": float(self.calib_b),
            "threshold": float(self.threshold),
            **self.meta,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> LinearModel:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        # allow_pickle=False: a model file can never execute code when loaded.
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            idf, coef = arrays["idf"], arrays["coef"]
        config = FeatureConfig(**meta.pop("config"))
        return cls(
            config=config,
            idf=idf,
            coef=coef,
            intercept=meta.pop("intercept"),
            calib_a=meta.pop("calib_a"),
            calib_b=meta.pop("calib_b"),
            threshold=meta.pop("threshold"),
            meta=meta,
        )
